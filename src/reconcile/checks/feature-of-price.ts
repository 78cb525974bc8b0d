import type { FeatureBilling, PriceSnapshot } from "../snapshots.js";

export type FeatureMapping = {
  prices: ReadonlyMap<string, PriceSnapshot>;
  /** Stripe meter id -> its event name. */
  meterEventNames: ReadonlyMap<string, string>;
  features: readonly FeatureBilling[];
};

/**
 * The catalog feature a price bills: an explicit `stripe_price` on the feature wins, otherwise the feature whose
 * `stripe_meter_event_name` is the event name of the meter the price is tied to.
 */
export function featureOfPrice(priceId: string | null, mapping: FeatureMapping): FeatureBilling | null {
  if (priceId === null) return null;
  const explicit = mapping.features.find((feature) => feature.stripePriceId === priceId);
  if (explicit !== undefined) return explicit;
  const meterId = mapping.prices.get(priceId)?.meterId ?? null;
  if (meterId === null) return null;
  const eventName = mapping.meterEventNames.get(meterId);
  if (eventName === undefined) return null;
  return mapping.features.find((feature) => feature.meterEventName === eventName) ?? null;
}
