import type { AppContext } from "../app-context.js";
import { loadUsageTotal } from "../ledger/usage-totals.js";
import { applyEntitlementsForCustomer } from "./apply-entitlements.js";
import type { FeatureDefinition } from "./catalog.js";
import { countsUsage, decideFeatureAccess, type FeatureAccess } from "./decide-access.js";
import { decideAccessChanges } from "./decide-access-changes.js";
import { decideEntitlements, type EntitlementDecision } from "./decide-entitlements.js";
import { loadHolds, loadSubscriptionStates } from "./load-entitlement-state.js";
import { Quantity } from "./quantity.js";

export const ACCESS_CHECK_CAUSE = "check:access-api";

/**
 * The customer's entitlements as of now, decided afresh from the mirror, so a grace period or scheduled
 * cancellation that ran out is honoured even before its enforcement job ran. When the stored entitlements
 * lag behind, they are brought up to date (and the change logged) with cause `check:access-api`.
 */
async function loadCurrentDecision(
  ctx: AppContext,
  stripeCustomerId: string,
  now: Date,
): Promise<EntitlementDecision> {
  const [subscriptions, holds, stored] = await Promise.all([
    loadSubscriptionStates(ctx.db, stripeCustomerId),
    loadHolds(ctx.db, stripeCustomerId),
    ctx.db.entitlement.findMany({ where: { customerId: stripeCustomerId } }),
  ]);
  const decision = decideEntitlements(ctx.catalog, subscriptions, now, holds);
  if (decideAccessChanges(stored, decision.features).length === 0) return decision;
  try {
    return (await applyEntitlementsForCustomer(ctx, stripeCustomerId, { cause: ACCESS_CHECK_CAUSE }, { now }))
      .decision;
  } catch (error) {
    // The answer is already decided; failing to record it must not fail the product's request.
    ctx.logger.warn(
      { customer: stripeCustomerId, err: (error as Error).message },
      "entitlements not recorded",
    );
    return decision;
  }
}

/** Access to each of `features` (catalog definitions), with usage of the current period from the ledger. */
export async function loadCustomerAccess(
  ctx: AppContext,
  stripeCustomerId: string,
  features: readonly FeatureDefinition[],
  options: { now?: Date } = {},
): Promise<FeatureAccess[]> {
  const now = options.now ?? new Date();
  const decision = await loadCurrentDecision(ctx, stripeCustomerId, now);
  const byFeature = new Map(decision.features.map((entitlement) => [entitlement.feature, entitlement]));
  return Promise.all(
    features.map(async (definition) => {
      const entitlement = byFeature.get(definition.key);
      if (entitlement === undefined || !countsUsage(definition, entitlement))
        return decideFeatureAccess(definition, entitlement, null);
      const windowed = entitlement.reset === "billing_period";
      const used = await loadUsageTotal(ctx.db, {
        customerId: stripeCustomerId,
        feature: definition.key,
        from: windowed ? entitlement.periodStart : null,
        to: windowed ? entitlement.periodEnd : null,
      });
      return decideFeatureAccess(definition, entitlement, new Quantity(used.toString()));
    }),
  );
}
