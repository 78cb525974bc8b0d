import type { FeatureDefinition } from "./catalog.js";
import type { EntitlementStatus, FeatureEntitlement } from "./decide-entitlements.js";
import { REASONS } from "./decide-entitlements.js";
import { Quantity } from "./quantity.js";

/** What the product is told about one feature: may the customer use it, and how much is left. */
export type FeatureAccess = {
  feature: string;
  /** "none": no subscription of the customer's ever granted the feature. */
  status: EntitlementStatus | "none";
  hasAccess: boolean;
  /** Decimal strings; null = unlimited or not a quantity. */
  limit: string | null;
  used: string | null;
  remaining: string | null;
  resetsAt: Date | null;
  graceUntil: Date | null;
  reason: string;
};

export type CheckOutcome = { allowed: boolean; remaining: string | null; reason: string };

export const ACCESS_REASONS = {
  limitReached: "limit_reached",
  wouldExceedLimit: "would_exceed_limit",
} as const;

/** Whether usage is counted for this feature's entitlement (granted metered features only). */
export function countsUsage(
  definition: FeatureDefinition,
  entitlement: FeatureEntitlement | undefined,
): boolean {
  return definition.type === "metered" && entitlement !== undefined && entitlement.status !== "revoked";
}

/** `used` is the ledger total of the entitlement's usage window; only read when countsUsage says so. */
export function decideFeatureAccess(
  definition: FeatureDefinition,
  entitlement: FeatureEntitlement | undefined,
  used: Quantity | null,
): FeatureAccess {
  const denied = (status: FeatureAccess["status"], reason: string): FeatureAccess => ({
    feature: definition.key,
    status,
    hasAccess: false,
    limit: null,
    used: null,
    remaining: null,
    resetsAt: null,
    graceUntil: null,
    reason,
  });
  if (entitlement === undefined) return denied("none", REASONS.noPlanGrantsFeature);
  if (entitlement.status === "revoked") return denied("revoked", entitlement.reason);

  const granted: FeatureAccess = {
    feature: definition.key,
    status: entitlement.status,
    hasAccess: true,
    limit: entitlement.limit,
    used: null,
    remaining: null,
    resetsAt: entitlement.reset === "billing_period" ? entitlement.periodEnd : null,
    graceUntil: entitlement.graceUntil,
    reason: entitlement.reason,
  };
  if (definition.type !== "metered") return granted;

  const usedSoFar = used ?? new Quantity(0);
  if (entitlement.limit === null) return { ...granted, used: usedSoFar.toFixed() };
  const left = Quantity.max(new Quantity(entitlement.limit).minus(usedSoFar), 0);
  return {
    ...granted,
    used: usedSoFar.toFixed(),
    remaining: left.toFixed(),
    hasAccess: left.greaterThan(0),
    reason: left.greaterThan(0) ? entitlement.reason : ACCESS_REASONS.limitReached,
  };
}

/** May the customer use `quantity` more units now? (Nothing is recorded; that is the usage API's job.) */
export function decideCheck(access: FeatureAccess, quantity: Quantity): CheckOutcome {
  if (!access.hasAccess) return { allowed: false, remaining: access.remaining, reason: access.reason };
  // Metered: what is left this period; static (e.g. seats): the granted amount itself.
  const room = access.remaining ?? (access.used === null ? access.limit : null);
  if (room !== null && quantity.greaterThan(room))
    return { allowed: false, remaining: access.remaining, reason: ACCESS_REASONS.wouldExceedLimit };
  return { allowed: true, remaining: access.remaining, reason: access.reason };
}
