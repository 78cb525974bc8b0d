import type {
  SubscriptionItemState,
  SubscriptionState,
} from "../../../src/entitlements/decide-entitlements.js";

export const NOW = new Date("2026-11-20T12:00:00Z");
export const PERIOD_START = new Date("2026-11-01T00:00:00Z");
export const PERIOD_END = new Date("2026-12-01T00:00:00Z");

export const days = (n: number) => n * 24 * 60 * 60 * 1000;
export const at = (base: Date, offsetMs: number) => new Date(base.getTime() + offsetMs);

let counter = 0;

export function anItem(overrides: Partial<SubscriptionItemState> = {}): SubscriptionItemState {
  counter += 1;
  return {
    id: `si_${counter}`,
    priceId: "price_pro_monthly",
    productId: "prod_pro",
    lookupKey: null,
    quantity: 1,
    currentPeriodStart: null,
    currentPeriodEnd: null,
    ...overrides,
  };
}

/** A subscription in the current period (Nov 2026), active unless told otherwise, with one Pro item. */
export function aSubscription(overrides: Partial<SubscriptionState> = {}): SubscriptionState {
  counter += 1;
  return {
    id: `sub_${counter}`,
    status: "active",
    cancelAtPeriodEnd: false,
    cancelAt: null,
    endedAt: null,
    pauseCollection: null,
    currentPeriodStart: PERIOD_START,
    currentPeriodEnd: PERIOD_END,
    unpaidSince: null,
    pastDueSince: null,
    stripeCreated: new Date("2026-10-01T00:00:00Z"),
    items: [anItem()],
    ...overrides,
  };
}
