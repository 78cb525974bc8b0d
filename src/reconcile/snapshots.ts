import type { PriceTerms } from "./pricing.js";

/**
 * What reconciliation reads, in its own shapes: built from the mirrors or from Stripe's API by the loaders and
 * `src/stripe/fetchers.ts`, consumed by the pure checks. Quantities and amounts are decimal strings.
 */
export type InvoiceLineSnapshot = {
  id: string;
  priceId: string | null;
  subscriptionItemId: string | null;
  quantity: string | null;
  /** What Stripe billed for the line, integer minor units, before discounts and taxes. */
  amountMinor: string;
  unitAmountDecimal: string | null;
  currency: string;
  periodStart: Date | null;
  periodEnd: Date | null;
  proration: boolean;
};

export type InvoiceSnapshot = {
  id: string;
  customerId: string;
  subscriptionId: string | null;
  status: string | null;
  currency: string;
  createdAt: Date | null;
  lines: InvoiceLineSnapshot[];
};

export type PriceSnapshot = PriceTerms & {
  productId: string | null;
  meterId: string | null;
  usageType: string | null;
};

export type SubscriptionItemSnapshot = { id: string; priceId: string };

export type SubscriptionSnapshot = {
  id: string;
  customerId: string;
  status: string;
  currency: string | null;
  canceledAt: Date | null;
  endedAt: Date | null;
  items: SubscriptionItemSnapshot[];
};

/**
 * What leakguard itself knew of a subscription Stripe reports ended: its mirrored status (null = never mirrored)
 * and the `customer.subscription.deleted` webhook, if one was stored, to say why access outlived it.
 */
export type MirroredSubscription = {
  status: string | null;
  deletionEvent: { id: string; status: string } | null;
};

export type EntitlementSnapshot = {
  customerId: string;
  feature: string;
  status: "active" | "grace" | "revoked";
  source: string | null;
};

/** A catalog feature billed by usage: by the price tied to its meter event name, or by an explicit price. */
export type FeatureBilling = { feature: string; meterEventName: string | null; stripePriceId: string | null };
