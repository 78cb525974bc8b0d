import { Prisma } from "../db/client.js";
import { markAccessInputsChanged } from "../entitlements/access-decisions.js";
import type { PriceSnapshot, SubscriptionSnapshot } from "../stripe/normalize/index.js";
import { decideSubscriptionWrite, type EventVersion, type GuardMode } from "./mirror-guard.js";
import { ensureCustomerRow, lockRow, type Tx } from "./mirror-transaction.js";
import type { MirrorWrite } from "./mirror-write.js";
import { savePrice } from "./price-handlers.js";

type AccessFields = {
  status: string;
  cancelAtPeriodEnd: boolean;
  cancelAt: Date | null;
  canceledAt: Date | null;
  endedAt: Date | null;
  currentPeriodStart: Date | null;
  currentPeriodEnd: Date | null;
  pastDueSince: Date | null;
  pause: { behavior: string; resumesAt: string | null } | null;
  items: {
    id: string;
    priceId: string;
    quantity: number | null;
    currentPeriodStart: Date | null;
    currentPeriodEnd: Date | null;
  }[];
};

/** The fields entitlements are decided from, in a form that compares equal whether read from a row or a snapshot. */
function accessKey(fields: AccessFields): string {
  const time = (date: Date | null) => date?.getTime() ?? null;
  return JSON.stringify([
    fields.status,
    fields.cancelAtPeriodEnd,
    time(fields.cancelAt),
    time(fields.canceledAt),
    time(fields.endedAt),
    time(fields.currentPeriodStart),
    time(fields.currentPeriodEnd),
    time(fields.pastDueSince),
    fields.pause === null ? null : [fields.pause.behavior, fields.pause.resumesAt],
    [...fields.items]
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((item) => [
        item.id,
        item.priceId,
        item.quantity,
        time(item.currentPeriodStart),
        time(item.currentPeriodEnd),
      ]),
  ]);
}

function readPause(value: Prisma.JsonValue | null): AccessFields["pause"] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const behavior = value["behavior"];
  const resumesAt = value["resumesAt"];
  return typeof behavior === "string"
    ? { behavior, resumesAt: typeof resumesAt === "string" ? resumesAt : null }
    : null;
}

/**
 * When the subscription became past_due, which anchors its grace until its unpaid invoice is mirrored: the time of
 * the write that moves it into past_due (for one first seen past_due, the earliest we know), kept while it stays.
 */
function pastDueSinceAfter(
  held: { status: string; pastDueSince: Date | null } | null,
  status: string,
  version: EventVersion,
): Date | null {
  if (status !== "past_due") return null;
  return held?.status === "past_due" ? held.pastDueSince : version.eventCreated;
}

/**
 * Creates or updates one subscription and its items unless the guard refuses; prices embedded in its items carry
 * their own guard. Runs inside a mirror transaction.
 */
export async function saveSubscription(
  tx: Tx,
  subscription: SubscriptionSnapshot,
  version: EventVersion,
  mode: GuardMode,
): Promise<MirrorWrite> {
  const id = subscription.stripeSubscriptionId;
  await ensureCustomerRow(tx, subscription.stripeCustomerId);
  await lockRow(tx, "subscriptions", id);
  const held = await tx.subscription.findUnique({ where: { id }, include: { items: true } });
  const decision = decideSubscriptionWrite(held, { ...version, status: subscription.status }, mode);
  // Prices carry their own guard: a stale subscription snapshot may still hold the newest copy of a price.
  for (const price of embeddedPrices(subscription)) await savePrice(tx, price, version);
  const result = {
    decision,
    stripeCustomerId: subscription.stripeCustomerId,
    created: held === null,
    changed: false,
    previousStatus: held?.status ?? null,
  };
  if (!decision.write) return result;

  const pause =
    subscription.pauseCollection === null
      ? null
      : {
          behavior: subscription.pauseCollection.behavior,
          resumesAt: subscription.pauseCollection.resumesAt?.toISOString() ?? null,
        };
  const row = {
    customerId: subscription.stripeCustomerId,
    status: subscription.status,
    cancelAtPeriodEnd: subscription.cancelAtPeriodEnd,
    cancelAt: subscription.cancelAt,
    canceledAt: subscription.canceledAt,
    endedAt: subscription.endedAt,
    currentPeriodStart: subscription.currentPeriodStart,
    currentPeriodEnd: subscription.currentPeriodEnd,
    pastDueSince: pastDueSinceAfter(held, subscription.status, version),
    pauseCollection: pause === null ? Prisma.DbNull : pause,
    metadata: subscription.metadata,
    stripeCreated: subscription.stripeCreated,
    eventCreated: version.eventCreated,
    eventId: version.eventId,
  };
  if (held === null) await tx.subscription.create({ data: { id, ...row } });
  else await tx.subscription.update({ where: { id }, data: row });
  await markAccessInputsChanged(tx, [subscription.stripeCustomerId]);

  const itemIds = subscription.items.map((item) => item.stripeSubscriptionItemId);
  // A truncated items list says nothing about the items it left out.
  if (subscription.itemsComplete)
    await tx.subscriptionItem.deleteMany({ where: { subscriptionId: id, id: { notIn: itemIds } } });
  for (const item of subscription.items) {
    const itemRow = {
      subscriptionId: id,
      priceId: item.stripePriceId,
      productId: item.stripeProductId,
      quantity: item.quantity,
      currentPeriodStart: item.currentPeriodStart,
      currentPeriodEnd: item.currentPeriodEnd,
    };
    await tx.subscriptionItem.upsert({
      where: { id: item.stripeSubscriptionItemId },
      create: { id: item.stripeSubscriptionItemId, ...itemRow },
      update: itemRow,
    });
  }

  const after: AccessFields = {
    ...row,
    pause,
    items: subscription.items.map((item) => ({
      id: item.stripeSubscriptionItemId,
      priceId: item.stripePriceId,
      quantity: item.quantity,
      currentPeriodStart: item.currentPeriodStart,
      currentPeriodEnd: item.currentPeriodEnd,
    })),
  };
  const changed =
    held === null ||
    !subscription.itemsComplete ||
    accessKey({ ...held, pause: readPause(held.pauseCollection) }) !== accessKey(after);
  return { ...result, changed };
}

/** One snapshot per price id, in id order so that concurrent writers lock prices in the same order. */
function embeddedPrices(subscription: SubscriptionSnapshot): PriceSnapshot[] {
  const byId = new Map<string, PriceSnapshot>();
  for (const item of subscription.items)
    if (item.price !== null) byId.set(item.price.stripePriceId, item.price);
  return [...byId.values()].sort((a, b) => (a.stripePriceId < b.stripePriceId ? -1 : 1));
}
