/**
 * leakguard's own snapshots of the Stripe objects it mirrors. Whatever API version a payload was rendered in,
 * the normalizers produce these; nothing past `src/stripe/` sees Stripe's JSON or types.
 */

/** A payload either reads into a snapshot or is refused with a reason; never a half-filled snapshot. */
export type Normalized<T> = { ok: true; value: T } | { ok: false; reason: string };

export type Metadata = Record<string, string>;

export type CustomerSnapshot = {
  stripeCustomerId: string;
  deleted: boolean;
  /** null when the payload is a deletion stub (`{id, object, deleted: true}`): the fields are unknown, not empty. */
  details: {
    email: string | null;
    name: string | null;
    metadata: Metadata;
    stripeCreated: Date | null;
  } | null;
};

/** One tier of a tiered price; `upTo` null is the last, unbounded tier. Amounts in minor units. */
export type PriceTierSnapshot = {
  upTo: number | null;
  unitAmountDecimal: string | null;
  flatAmountDecimal: string | null;
};

export type PriceSnapshot = {
  stripePriceId: string;
  stripeProductId: string | null;
  currency: string;
  /** Whole minor units; null for sub-cent prices, whose amount is only in `unitAmountDecimal`. */
  unitAmountMinor: bigint | null;
  /** Minor units as a decimal string (e.g. "0.000381"). */
  unitAmountDecimal: string | null;
  billingScheme: string;
  tiersMode: string | null;
  /** null when the payload carries no tiers (Stripe sends them only when expanded), not "no tiers". */
  tiers: PriceTierSnapshot[] | null;
  transformQuantity: { divideBy: number; round: string } | null;
  recurringInterval: string | null;
  usageType: string | null;
  stripeMeterId: string | null;
  lookupKey: string | null;
  active: boolean;
};

export type SubscriptionItemSnapshot = {
  stripeSubscriptionItemId: string;
  stripePriceId: string;
  stripeProductId: string | null;
  quantity: number | null;
  currentPeriodStart: Date | null;
  currentPeriodEnd: Date | null;
  /** The embedded price when the payload carries a readable one (it may be only an id). */
  price: PriceSnapshot | null;
};

export type SubscriptionSnapshot = {
  stripeSubscriptionId: string;
  stripeCustomerId: string;
  status: string;
  cancelAtPeriodEnd: boolean;
  cancelAt: Date | null;
  canceledAt: Date | null;
  endedAt: Date | null;
  /** The subscription's period: top-level fields (pre-basil), else the period of the item that renews first. */
  currentPeriodStart: Date | null;
  currentPeriodEnd: Date | null;
  pauseCollection: { behavior: string; resumesAt: Date | null } | null;
  metadata: Metadata;
  stripeCreated: Date | null;
  items: SubscriptionItemSnapshot[];
  /** false when Stripe truncated the items list (`has_more`): the items present are not all of them. */
  itemsComplete: boolean;
};

export type InvoiceLineSnapshot = {
  stripeInvoiceLineId: string;
  stripeSubscriptionItemId: string | null;
  stripePriceId: string | null;
  stripeProductId: string | null;
  /** Decimal string; `quantity_decimal` when the payload has it. */
  quantity: string | null;
  amountMinor: bigint;
  unitAmountDecimal: string | null;
  currency: string;
  periodStart: Date | null;
  periodEnd: Date | null;
  proration: boolean;
  description: string | null;
};

export type InvoiceSnapshot = {
  stripeInvoiceId: string;
  stripeCustomerId: string;
  stripeSubscriptionId: string | null;
  status: string | null;
  currency: string;
  totalMinor: bigint;
  amountDueMinor: bigint;
  amountPaidMinor: bigint;
  periodStart: Date | null;
  periodEnd: Date | null;
  billingReason: string | null;
  stripeCreated: Date | null;
  lines: InvoiceLineSnapshot[];
  /** false when Stripe truncated the lines list (`has_more`): the lines present are not all of them. */
  linesComplete: boolean;
};

/** A charge, as far as refunds and disputes need it. Amounts in minor units. */
export type ChargeSnapshot = {
  stripeChargeId: string;
  /** null for a guest payment: there is no customer whose access it bought. */
  stripeCustomerId: string | null;
  /** `charge.invoice` exists only before 2025-03-31.basil; from then on the payment intent leads to the invoice. */
  stripeInvoiceId: string | null;
  stripePaymentIntentId: string | null;
  currency: string;
  amountMinor: bigint;
  amountCapturedMinor: bigint;
  amountRefundedMinor: bigint;
  /** Stripe's own flag: the whole charge is refunded. */
  refunded: boolean;
};

export type RefundSnapshot = {
  stripeRefundId: string;
  stripeChargeId: string | null;
  stripePaymentIntentId: string | null;
  /** pending, requires_action, succeeded, failed, canceled. */
  status: string | null;
  amountMinor: bigint;
  /** The charge when the payload embeds it (expanded); otherwise only its id is known. */
  charge: ChargeSnapshot | null;
};

export type DisputeSnapshot = {
  stripeDisputeId: string;
  stripeChargeId: string | null;
  stripePaymentIntentId: string | null;
  /** needs_response, under_review, won, lost, warning_needs_response, warning_under_review, warning_closed, prevented. */
  status: string;
  amountMinor: bigint;
  charge: ChargeSnapshot | null;
};

export type CheckoutSessionSnapshot = {
  stripeCheckoutSessionId: string;
  /** payment, setup or subscription. */
  mode: string | null;
  status: string | null;
  stripeCustomerId: string | null;
  stripeSubscriptionId: string | null;
};

/**
 * A snapshot read from Stripe's API rather than from an event. `fetchedAt` is the time the mirror guard compares
 * with event times: the end of the second before the read started, so anything Stripe stamps in the read's own
 * second or later counts as newer.
 */
export type Fetched<T> = { snapshot: T; fetchedAt: Date };
