import { Dec, toDec } from "./money.js";

/** Usage of one customer's feature in [from, to), as the ledger sums it. */
export type UsageWindow = { customerId: string; feature: string; from: Date; to: Date };

/** Ledger totals the loaders read before the checks run, keyed by `usageWindowKey`. */
export type UsageTotals = ReadonlyMap<string, string>;

export function usageWindowKey(window: UsageWindow): string {
  return [window.customerId, window.feature, window.from.toISOString(), window.to.toISOString()].join("|");
}

/** The loaded total for a window; a window the loader did not load is a programming error, not zero usage. */
export function usageIn(totals: UsageTotals, window: UsageWindow): Dec {
  const total = totals.get(usageWindowKey(window));
  if (total === undefined) throw new Error(`usage for ${usageWindowKey(window)} was not loaded`);
  return toDec(total);
}

export function uniqueWindows(windows: readonly UsageWindow[]): UsageWindow[] {
  return [...new Map(windows.map((window) => [usageWindowKey(window), window])).values()];
}

export const NO_USAGE = new Dec(0);
