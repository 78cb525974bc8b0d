import { REASONS } from "./decide-entitlements.js";
import type { DisputePolicy, RefundPolicy } from "./settings.js";

/** A refund or dispute of a customer's payment, in our own terms (sync builds it from the Stripe event). */
export type PaymentReversal =
  | {
      kind: "refund";
      stripeCustomerId: string;
      /** The refunded charge. */
      reference: string;
      stripeSubscriptionId: string | null;
      stripeInvoiceId: string | null;
      /** The whole charge is refunded (Stripe's `charge.refunded`). */
      fullyRefunded: boolean;
      eventId: string;
      eventCreated: Date;
    }
  | {
      kind: "dispute";
      stripeCustomerId: string;
      /** The dispute. */
      reference: string;
      stripeSubscriptionId: string | null;
      stripeInvoiceId: string | null;
      /** Stripe's dispute status: needs_response, under_review, won, lost, warning_*, prevented. */
      status: string;
      eventId: string;
      eventCreated: Date;
    };

export type HoldDecision = { action: "hold" | "release" | "none"; reason: string };

const DISPUTE_SETTLED_FOR_US = new Set(["won", "warning_closed", "prevented"]);

/** Whether a refund or dispute suspends access, by policy. */
export function decideHold(
  reversal: PaymentReversal,
  policy: { revokeOnRefund: RefundPolicy; revokeOnDispute: DisputePolicy },
): HoldDecision {
  if (reversal.kind === "refund") {
    const reason = REASONS.refunded;
    if (policy.revokeOnRefund === "never") return { action: "none", reason };
    if (policy.revokeOnRefund === "full" && !reversal.fullyRefunded) return { action: "none", reason };
    return { action: "hold", reason };
  }
  const reason = REASONS.disputed;
  if (policy.revokeOnDispute === "never") return { action: "none", reason };
  if (DISPUTE_SETTLED_FOR_US.has(reversal.status)) return { action: "release", reason };
  if (reversal.status === "lost") return { action: "hold", reason };
  return policy.revokeOnDispute === "opened" ? { action: "hold", reason } : { action: "none", reason };
}
