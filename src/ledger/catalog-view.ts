/** The two things the ledger needs from the catalog: which features exist and each one's Stripe meter event. */
export type LedgerCatalog = {
  hasFeature: (feature: string) => boolean;
  meterEventName: (feature: string) => string | undefined;
  meteredFeatures: () => string[];
};

type FeatureLike = { stripe_meter_event_name?: unknown; stripeMeterEventName?: unknown };

function featureTable(catalog: unknown): Map<string, FeatureLike> | null {
  if (catalog === null || typeof catalog !== "object") return null;
  const features = (catalog as { features?: unknown }).features;
  if (features instanceof Map) return features as Map<string, FeatureLike>;
  if (features !== null && typeof features === "object") {
    return new Map(Object.entries(features as Record<string, FeatureLike>));
  }
  return null;
}

/**
 * Reads `ctx.catalog` when the process loaded one (`{ features: { name: { stripe_meter_event_name } } }`, as
 * the catalog file or its parsed form). Returns null when there is none: then any feature name is accepted.
 */
export function ledgerCatalogOf(ctx: object): LedgerCatalog | null {
  const table = featureTable((ctx as { catalog?: unknown }).catalog);
  if (table === null) return null;
  const eventName = (feature: string): string | undefined => {
    const entry = table.get(feature);
    const name = entry?.stripe_meter_event_name ?? entry?.stripeMeterEventName;
    return typeof name === "string" && name.length > 0 ? name : undefined;
  };
  return {
    hasFeature: (feature) => table.has(feature),
    meterEventName: eventName,
    meteredFeatures: () => [...table.keys()].filter((feature) => eventName(feature) !== undefined),
  };
}
