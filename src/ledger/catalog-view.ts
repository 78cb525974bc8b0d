import { type Catalog, catalogFeature, type FeatureDefinition } from "../entitlements/catalog.js";

/** What the ledger needs from the catalog: each feature's type (undefined: no such feature) and Stripe meter event. */
export type LedgerCatalog = {
  featureType: (feature: string) => FeatureDefinition["type"] | undefined;
  meterEventName: (feature: string) => string | undefined;
  meteredFeatures: () => string[];
};

export function ledgerCatalogOf(catalog: Catalog): LedgerCatalog {
  const meterEventName = (feature: string): string | undefined => {
    const definition = catalogFeature(catalog, feature);
    return definition?.type === "metered" ? definition.stripeMeterEventName : undefined;
  };
  return {
    featureType: (feature) => catalogFeature(catalog, feature)?.type,
    meterEventName,
    meteredFeatures: () =>
      Object.keys(catalog.features).filter((feature) => meterEventName(feature) !== undefined),
  };
}
