import { type Catalog, catalogFeature } from "../entitlements/catalog.js";

/** The two things the ledger needs from the catalog: which features exist and each one's Stripe meter event. */
export type LedgerCatalog = {
  hasFeature: (feature: string) => boolean;
  meterEventName: (feature: string) => string | undefined;
  meteredFeatures: () => string[];
};

export function ledgerCatalogOf(catalog: Catalog): LedgerCatalog {
  const meterEventName = (feature: string): string | undefined => {
    const definition = catalogFeature(catalog, feature);
    return definition?.type === "metered" ? definition.stripeMeterEventName : undefined;
  };
  return {
    hasFeature: (feature) => catalogFeature(catalog, feature) !== undefined,
    meterEventName,
    meteredFeatures: () =>
      Object.keys(catalog.features).filter((feature) => meterEventName(feature) !== undefined),
  };
}
