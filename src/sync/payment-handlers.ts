import { applyPaymentReversal, type PaymentReversalOutcome } from "../entitlements/apply-payment-reversal.js";
import type { PaymentReversal } from "../entitlements/decide-holds.js";
import { fetchCharge, fetchInvoiceIdOfPaymentIntent } from "../stripe/fetchers.js";
import type { ChargeSnapshot, DisputeSnapshot, RefundSnapshot } from "../stripe/normalize/index.js";
import type { HandlerContext } from "./handler.js";
import type { SyncOutcome } from "./types.js";

/** Pure: the whole captured amount went back (Stripe's flag, or the amounts when an old payload lacks it). */
export function isFullyRefunded(charge: ChargeSnapshot): boolean {
  if (charge.refunded) return true;
  return charge.amountCapturedMinor > 0n && charge.amountRefundedMinor >= charge.amountCapturedMinor;
}

/** charge.refunded: the charge carries its refunded total. */
export async function applyChargeRefundedEvent(
  handler: HandlerContext,
  charge: ChargeSnapshot,
): Promise<SyncOutcome> {
  return applyRefundOf(handler, charge);
}

/** charge.refund.updated, refund.created, refund.updated: a refund names its charge, read from Stripe for the total. */
export async function applyRefundEvent(
  handler: HandlerContext,
  refund: RefundSnapshot,
): Promise<SyncOutcome> {
  if (refund.stripeChargeId === null)
    return { status: "unsupported", reason: `refund ${refund.stripeRefundId} names no charge` };
  const charge = refund.charge ?? (await fetchCharge(handler.ctx.stripe, refund.stripeChargeId));
  if (charge === null)
    return { status: "skipped", reason: `Stripe does not know charge ${refund.stripeChargeId}` };
  return applyRefundOf(handler, charge);
}

async function applyRefundOf(handler: HandlerContext, charge: ChargeSnapshot): Promise<SyncOutcome> {
  const { ctx, event, log } = handler;
  if (charge.stripeCustomerId === null)
    return {
      status: "ignored",
      reason: `charge ${charge.stripeChargeId} has no customer: no access to hold`,
    };
  const fullyRefunded = isFullyRefunded(charge);
  const reversal: PaymentReversal = {
    kind: "refund",
    stripeCustomerId: charge.stripeCustomerId,
    reference: charge.stripeChargeId,
    stripeSubscriptionId: null,
    stripeInvoiceId: await invoiceOf(handler, charge, charge.stripePaymentIntentId),
    fullyRefunded,
    eventId: event.id,
    eventCreated: event.created,
  };
  const applied = await applyPaymentReversal(ctx, reversal);
  const amounts = `${charge.amountRefundedMinor} of ${charge.amountCapturedMinor} ${charge.currency} refunded`;
  if (!fullyRefunded && applied.hold === "unchanged")
    log.warn(
      { event_id: event.id, customer: charge.stripeCustomerId, charge: charge.stripeChargeId, amounts },
      "partial refund; access kept by the refund policy",
    );
  return outcomeOfReversal(
    applied,
    `${fullyRefunded ? "full" : "partial"} refund of ${charge.stripeChargeId} (${amounts})`,
  );
}

/** charge.dispute.created / updated / closed / funds_withdrawn / funds_reinstated. */
export async function applyDisputeEvent(
  handler: HandlerContext,
  dispute: DisputeSnapshot,
): Promise<SyncOutcome> {
  const { ctx, event } = handler;
  if (dispute.stripeChargeId === null)
    return { status: "unsupported", reason: `dispute ${dispute.stripeDisputeId} names no charge` };
  // A dispute does not name the customer; its charge does.
  const charge = dispute.charge ?? (await fetchCharge(ctx.stripe, dispute.stripeChargeId));
  if (charge === null)
    return { status: "skipped", reason: `Stripe does not know charge ${dispute.stripeChargeId}` };
  if (charge.stripeCustomerId === null)
    return {
      status: "ignored",
      reason: `charge ${charge.stripeChargeId} has no customer: no access to hold`,
    };
  const reversal: PaymentReversal = {
    kind: "dispute",
    stripeCustomerId: charge.stripeCustomerId,
    reference: dispute.stripeDisputeId,
    stripeSubscriptionId: null,
    stripeInvoiceId: await invoiceOf(
      handler,
      charge,
      dispute.stripePaymentIntentId ?? charge.stripePaymentIntentId,
    ),
    status: dispute.status,
    eventId: event.id,
    eventCreated: event.created,
  };
  const applied = await applyPaymentReversal(ctx, reversal);
  return outcomeOfReversal(applied, `dispute ${dispute.stripeDisputeId} ${dispute.status}`);
}

/**
 * The invoice the payment paid: named on the charge before 2025-03-31.basil, else found through the payment
 * intent's invoice payments. null leaves the hold on the customer as a whole (a payment that paid no invoice).
 */
async function invoiceOf(
  handler: HandlerContext,
  charge: ChargeSnapshot,
  stripePaymentIntentId: string | null,
): Promise<string | null> {
  if (charge.stripeInvoiceId !== null) return charge.stripeInvoiceId;
  if (stripePaymentIntentId === null) return null;
  return fetchInvoiceIdOfPaymentIntent(handler.ctx.stripe, stripePaymentIntentId);
}

function outcomeOfReversal(applied: PaymentReversalOutcome, detail: string): SyncOutcome {
  if (applied.hold === "stale")
    return { status: "skipped", reason: "stale: a newer event about this payment is already applied" };
  const changes = applied.entitlements.changes.length;
  return { status: "applied", detail: `${detail}: access ${applied.hold}, ${changes} entitlement change(s)` };
}
