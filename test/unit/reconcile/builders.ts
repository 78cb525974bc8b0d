import type {
  EntitlementSnapshot,
  FeatureBilling,
  InvoiceLineSnapshot,
  InvoiceSnapshot,
  PriceSnapshot,
  SubscriptionSnapshot,
} from "../../../src/reconcile/snapshots.js";

/** Typed builders for reconciliation inputs: a sensible default, overridden where a test cares. */
export const NOV_1 = new Date("2026-11-01T00:00:00Z");
export const DEC_1 = new Date("2026-12-01T00:00:00Z");

export function aPrice(overrides: Partial<PriceSnapshot> = {}): PriceSnapshot {
  return {
    id: "price_tokens",
    currency: "usd",
    billingScheme: "per_unit",
    unitAmountDecimal: "0.000381",
    tiersMode: null,
    tiers: [],
    transformQuantity: null,
    productId: "prod_tokens",
    meterId: "mtr_tokens",
    usageType: "metered",
    ...overrides,
  };
}

export function aLine(overrides: Partial<InvoiceLineSnapshot> = {}): InvoiceLineSnapshot {
  return {
    id: "il_tokens",
    priceId: "price_tokens",
    subscriptionItemId: "si_tokens",
    quantity: "24104515",
    amountMinor: "9184",
    unitAmountDecimal: "0.000381",
    currency: "usd",
    periodStart: NOV_1,
    periodEnd: DEC_1,
    proration: false,
    ...overrides,
  };
}

export function anInvoice(overrides: Partial<InvoiceSnapshot> = {}): InvoiceSnapshot {
  return {
    id: "in_1",
    customerId: "cus_a",
    subscriptionId: "sub_a",
    status: "paid",
    currency: "usd",
    createdAt: DEC_1,
    lines: [aLine()],
    ...overrides,
  };
}

export function aSubscription(overrides: Partial<SubscriptionSnapshot> = {}): SubscriptionSnapshot {
  return {
    id: "sub_a",
    customerId: "cus_a",
    status: "active",
    currency: "usd",
    canceledAt: null,
    endedAt: null,
    items: [{ id: "si_tokens", priceId: "price_tokens" }],
    ...overrides,
  };
}

export function anEntitlement(overrides: Partial<EntitlementSnapshot> = {}): EntitlementSnapshot {
  return { customerId: "cus_a", feature: "tokens", status: "active", source: "sub_a", ...overrides };
}

export const TOKENS: FeatureBilling = {
  feature: "tokens",
  meterEventName: "llm_tokens",
  stripePriceId: null,
};
export const API_CALLS: FeatureBilling = {
  feature: "api_calls",
  meterEventName: "api_calls",
  stripePriceId: null,
};
export const SEATS_BY_PRICE: FeatureBilling = {
  feature: "seats",
  meterEventName: null,
  stripePriceId: "price_seats",
};

export const METERS: ReadonlyMap<string, string> = new Map([
  ["mtr_tokens", "llm_tokens"],
  ["mtr_calls", "api_calls"],
]);

export function pricesOf(...prices: PriceSnapshot[]): ReadonlyMap<string, PriceSnapshot> {
  return new Map(prices.map((price) => [price.id, price]));
}
