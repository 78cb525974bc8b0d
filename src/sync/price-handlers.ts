import { Prisma } from "../db/client.js";
import { markPriceCustomersChanged } from "../entitlements/access-decisions.js";
import type { PriceSnapshot } from "../stripe/normalize/index.js";
import { type HandlerContext, outcomeOf, versionOf } from "./handler.js";
import { decidePriceWrite, type EventVersion, type GuardDecision } from "./mirror-guard.js";
import { inMirrorTransaction, lockRow, type Tx } from "./mirror-transaction.js";
import type { SyncOutcome } from "./types.js";

/** price.created, price.updated */
export async function applyPriceEvent(handler: HandlerContext, price: PriceSnapshot): Promise<SyncOutcome> {
  const decision = await inMirrorTransaction(handler.ctx.db, (tx) =>
    savePrice(tx, price, versionOf(handler.event)),
  );
  return outcomeOf(decision, `price ${price.stripePriceId}`);
}

/** Upserts one price unless the held row comes from a newer event. Also used for prices embedded in items. */
export async function savePrice(tx: Tx, price: PriceSnapshot, version: EventVersion): Promise<GuardDecision> {
  await lockRow(tx, "prices", price.stripePriceId);
  const held = await tx.price.findUnique({
    where: { id: price.stripePriceId },
    select: { eventCreated: true, productId: true, lookupKey: true },
  });
  const decision = decidePriceWrite(held, version);
  if (!decision.write) return decision;
  const row = {
    productId: price.stripeProductId,
    currency: price.currency,
    unitAmount: price.unitAmountMinor,
    unitAmountDecimal: price.unitAmountDecimal,
    billingScheme: price.billingScheme,
    tiersMode: price.tiersMode,
    // Webhook payloads carry tiers only when expanded: absent tiers keep what a fetch stored before.
    ...(price.tiers === null
      ? {}
      : {
          tiers: price.tiers.map((tier) => ({
            up_to: tier.upTo,
            unit_amount_decimal: tier.unitAmountDecimal,
            flat_amount_decimal: tier.flatAmountDecimal,
          })),
        }),
    transformQuantity:
      price.transformQuantity === null
        ? Prisma.DbNull
        : { divide_by: price.transformQuantity.divideBy, round: price.transformQuantity.round },
    recurringInterval: price.recurringInterval,
    usageType: price.usageType,
    meterId: price.stripeMeterId,
    lookupKey: price.lookupKey,
    active: price.active,
    eventCreated: version.eventCreated,
  };
  if (held === null) await tx.price.create({ data: { id: price.stripePriceId, ...row } });
  else await tx.price.update({ where: { id: price.stripePriceId }, data: row });
  // Items match plans through their price's product and lookup key: a change re-decides everyone on it.
  if (held === null || held.productId !== row.productId || held.lookupKey !== row.lookupKey)
    await markPriceCustomersChanged(tx, price.stripePriceId);
  return decision;
}
