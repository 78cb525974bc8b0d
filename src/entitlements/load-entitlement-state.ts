import type { Prisma } from "../db/client.js";
import type { HoldState, SubscriptionState } from "./decide-entitlements.js";

export type DbReader = Prisma.TransactionClient;

type PauseJson = { behavior?: unknown; resumesAt?: unknown; resumes_at?: unknown };

function readDate(value: unknown): Date | null {
  if (typeof value === "number") return new Date(value * 1000);
  if (typeof value === "string") {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? null : date;
  }
  return null;
}

function readPauseCollection(value: Prisma.JsonValue | null): SubscriptionState["pauseCollection"] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const pause = value as PauseJson;
  return {
    behavior: typeof pause.behavior === "string" ? pause.behavior : null,
    resumesAt: readDate(pause.resumesAt ?? pause.resumes_at),
  };
}

/**
 * When the oldest still-open invoice of each subscription started to be owed. A renewal invoice's own
 * period looks back one period (metered usage), so the service period it bills starts at its period end.
 */
async function loadUnpaidSince(db: DbReader, subscriptionIds: string[]): Promise<Map<string, Date>> {
  const since = new Map<string, Date>();
  if (subscriptionIds.length === 0) return since;
  const invoices = await db.invoice.findMany({
    where: { subscriptionId: { in: subscriptionIds }, status: "open" },
    select: { subscriptionId: true, periodStart: true, periodEnd: true, stripeCreated: true },
  });
  for (const invoice of invoices) {
    const owedFrom = invoice.periodEnd ?? invoice.stripeCreated ?? invoice.periodStart;
    if (invoice.subscriptionId === null || owedFrom === null) continue;
    const held = since.get(invoice.subscriptionId);
    if (held === undefined || owedFrom < held) since.set(invoice.subscriptionId, owedFrom);
  }
  return since;
}

/** The customer's mirrored subscriptions, items and their prices, in the shape decideEntitlements takes. */
export async function loadSubscriptionStates(
  db: DbReader,
  stripeCustomerId: string,
): Promise<SubscriptionState[]> {
  const subscriptions = await db.subscription.findMany({
    where: { customerId: stripeCustomerId },
    include: { items: true },
    orderBy: { id: "asc" },
  });
  const priceIds = [...new Set(subscriptions.flatMap((sub) => sub.items.map((item) => item.priceId)))];
  const prices =
    priceIds.length === 0
      ? []
      : await db.price.findMany({
          where: { id: { in: priceIds } },
          select: { id: true, productId: true, lookupKey: true },
        });
  const priceById = new Map(prices.map((price) => [price.id, price]));
  const pastDue = subscriptions.filter((sub) => sub.status === "past_due").map((sub) => sub.id);
  const unpaidSince = await loadUnpaidSince(db, pastDue);

  return subscriptions.map((sub) => ({
    id: sub.id,
    status: sub.status,
    cancelAtPeriodEnd: sub.cancelAtPeriodEnd,
    cancelAt: sub.cancelAt,
    endedAt: sub.endedAt,
    pauseCollection: readPauseCollection(sub.pauseCollection),
    currentPeriodStart: sub.currentPeriodStart,
    currentPeriodEnd: sub.currentPeriodEnd,
    unpaidSince: unpaidSince.get(sub.id) ?? null,
    pastDueSince: sub.pastDueSince,
    stripeCreated: sub.stripeCreated,
    items: sub.items.map((item) => {
      const price = priceById.get(item.priceId);
      return {
        id: item.id,
        priceId: item.priceId,
        productId: item.productId ?? price?.productId ?? null,
        lookupKey: price?.lookupKey ?? null,
        quantity: item.quantity,
        currentPeriodStart: item.currentPeriodStart,
        currentPeriodEnd: item.currentPeriodEnd,
      };
    }),
  }));
}

/** Refund and dispute holds in force (not released) for the customer. */
export async function loadHolds(db: DbReader, stripeCustomerId: string): Promise<HoldState[]> {
  const holds = await db.entitlementHold.findMany({
    where: { customerId: stripeCustomerId, releasedAt: null },
    orderBy: { createdAt: "asc" },
  });
  return holds.map((hold) => ({
    subscriptionId: hold.subscriptionId,
    reason: hold.reason,
    since: hold.eventCreated ?? hold.createdAt,
  }));
}
