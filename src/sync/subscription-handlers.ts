import { Prisma } from "../db/client.js";
import { applyEntitlementsForCustomer } from "../entitlements/apply-entitlements.js";
import type { PriceSnapshot, SubscriptionSnapshot } from "../stripe/normalize/index.js";
import { type HandlerContext, outcomeOf, versionOf } from "./handler.js";
import { decideSubscriptionWrite, type EventVersion, type GuardDecision } from "./mirror-guard.js";
import { ensureCustomerRow, inMirrorTransaction, lockRow, type Tx } from "./mirror-transaction.js";
import { savePrice } from "./price-handlers.js";
import type { SyncOutcome } from "./types.js";

/**
 * customer.subscription.created / updated / deleted / paused / resumed / pending_update_applied /
 * pending_update_expired / trial_will_end: every one carries the whole subscription, so all are one upsert.
 */
export async function applySubscriptionEvent(
  handler: HandlerContext,
  subscription: SubscriptionSnapshot,
): Promise<SyncOutcome> {
  const { ctx, event } = handler;
  const version = versionOf(event);
  const decision = await inMirrorTransaction(ctx.db, (tx) => saveSubscription(tx, subscription, version));
  const outcome = outcomeOf(
    decision,
    `subscription ${subscription.stripeSubscriptionId} ${subscription.status}, ${subscription.items.length} item(s)`,
  );
  if (outcome.status === "applied")
    await applyEntitlementsForCustomer(ctx, subscription.stripeCustomerId, {
      cause: `event:${event.id}`,
      eventId: event.id,
    });
  return outcome;
}

async function saveSubscription(
  tx: Tx,
  subscription: SubscriptionSnapshot,
  version: EventVersion,
): Promise<GuardDecision> {
  const id = subscription.stripeSubscriptionId;
  await ensureCustomerRow(tx, subscription.stripeCustomerId);
  await lockRow(tx, "subscriptions", id);
  const held = await tx.subscription.findUnique({
    where: { id },
    select: { eventCreated: true, status: true },
  });
  const decision = decideSubscriptionWrite(held, { ...version, status: subscription.status });
  // Prices carry their own guard: a stale subscription snapshot may still hold the newest copy of a price.
  for (const price of embeddedPrices(subscription)) await savePrice(tx, price, version);
  if (!decision.write) return decision;

  const row = {
    customerId: subscription.stripeCustomerId,
    status: subscription.status,
    cancelAtPeriodEnd: subscription.cancelAtPeriodEnd,
    cancelAt: subscription.cancelAt,
    canceledAt: subscription.canceledAt,
    endedAt: subscription.endedAt,
    currentPeriodStart: subscription.currentPeriodStart,
    currentPeriodEnd: subscription.currentPeriodEnd,
    pauseCollection:
      subscription.pauseCollection === null
        ? Prisma.DbNull
        : {
            behavior: subscription.pauseCollection.behavior,
            resumesAt: subscription.pauseCollection.resumesAt?.toISOString() ?? null,
          },
    metadata: subscription.metadata,
    stripeCreated: subscription.stripeCreated,
    eventCreated: version.eventCreated,
    eventId: version.eventId,
  };
  if (held === null) await tx.subscription.create({ data: { id, ...row } });
  else await tx.subscription.update({ where: { id }, data: row });

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

  return decision;
}

/** One snapshot per price id, in id order so that concurrent writers lock prices in the same order. */
function embeddedPrices(subscription: SubscriptionSnapshot): PriceSnapshot[] {
  const byId = new Map<string, PriceSnapshot>();
  for (const item of subscription.items)
    if (item.price !== null) byId.set(item.price.stripePriceId, item.price);
  return [...byId.values()].sort((a, b) => (a.stripePriceId < b.stripePriceId ? -1 : 1));
}
