import type { AppContext } from "../app-context.js";
import { markAccessInputsChanged } from "./access-decisions.js";
import { type ApplyEntitlementsResult, applyEntitlementsForCustomer } from "./apply-entitlements.js";
import { decideHold, type PaymentReversal } from "./decide-holds.js";
import type { DbReader } from "./load-entitlement-state.js";
import { entitlementSettingsOf } from "./settings.js";

export type PaymentReversalOutcome = {
  hold: "held" | "released" | "unchanged" | "stale";
  entitlements: ApplyEntitlementsResult;
};

async function subscriptionOf(tx: DbReader, reversal: PaymentReversal): Promise<string | null> {
  if (reversal.stripeSubscriptionId !== null) return reversal.stripeSubscriptionId;
  if (reversal.stripeInvoiceId === null) return null;
  const invoice = await tx.invoice.findUnique({
    where: { id: reversal.stripeInvoiceId },
    select: { subscriptionId: true },
  });
  return invoice?.subscriptionId ?? null;
}

async function saveHold(ctx: AppContext, reversal: PaymentReversal): Promise<PaymentReversalOutcome["hold"]> {
  const decision = decideHold(reversal, entitlementSettingsOf(ctx.config));
  if (decision.action === "none") return "unchanged";
  return ctx.db.$transaction(async (tx) => {
    const key = `hold:${reversal.kind}:${reversal.reference}`;
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`;
    const where = { kind_reference: { kind: reversal.kind, reference: reversal.reference } };
    const held = await tx.entitlementHold.findUnique({ where });
    // Disputes are delivered out of order too: an older status never overwrites a newer one.
    if (held?.eventCreated && held.eventCreated > reversal.eventCreated) return "stale";
    const subscriptionId = held?.subscriptionId ?? (await subscriptionOf(tx, reversal));
    await markAccessInputsChanged(tx, [reversal.stripeCustomerId]);
    const common = {
      customerId: reversal.stripeCustomerId,
      subscriptionId,
      reason: decision.reason,
      eventCreated: reversal.eventCreated,
    };
    if (decision.action === "hold") {
      const fields = { ...common, eventId: reversal.eventId, releasedAt: null, releaseEventId: null };
      await tx.entitlementHold.upsert({
        where,
        create: { kind: reversal.kind, reference: reversal.reference, ...fields },
        update: fields,
      });
      return held !== null && held.releasedAt === null ? "unchanged" : "held";
    }
    const released = { releasedAt: reversal.eventCreated, releaseEventId: reversal.eventId };
    await tx.entitlementHold.upsert({
      where,
      // Remember a settlement that arrives first, so the older "opened" event cannot hold access afterwards.
      create: { kind: reversal.kind, reference: reversal.reference, ...common, eventId: null, ...released },
      update: { ...common, ...released },
    });
    return held !== null && held.releasedAt === null ? "released" : "unchanged";
  });
}

/**
 * A refund or dispute of a customer's payment: by policy (LEAKGUARD_REVOKE_ON_REFUND / _DISPUTE), holds or
 * releases the access that payment bought, then recomputes the customer's entitlements with the event as cause.
 */
export async function applyPaymentReversal(
  ctx: AppContext,
  reversal: PaymentReversal,
): Promise<PaymentReversalOutcome> {
  const hold = await saveHold(ctx, reversal);
  const entitlements = await applyEntitlementsForCustomer(ctx, reversal.stripeCustomerId, {
    cause: `event:${reversal.eventId}`,
    eventId: reversal.eventId,
  });
  return { hold, entitlements };
}
