import {
  type EntitlementStatus,
  type FeatureEntitlement,
  REASONS,
  revokedEntitlement,
} from "./decide-entitlements.js";
import { normalizeDecimal } from "./quantity.js";

/** One entitlement as the access log and outbound webhooks show it (JSON, snake_case, decimal strings). */
export type EntitlementSnapshot = {
  status: EntitlementStatus;
  limit: string | null;
  reset: string | null;
  period_start: string | null;
  period_end: string | null;
  grace_until: string | null;
  reason: string | null;
  source: string[];
};

/** An `entitlements` row as loaded (limit as a decimal-like, source as comma-separated subscription ids). */
export type StoredEntitlement = {
  feature: string;
  status: EntitlementStatus;
  limit: { toString(): string } | null;
  reset: string | null;
  periodStart: Date | null;
  periodEnd: Date | null;
  graceUntil: Date | null;
  reason: string | null;
  source: string | null;
};

export type AccessAction = "grant" | "change" | "revoke";

export type AccessChange = {
  feature: string;
  action: AccessAction;
  before: EntitlementSnapshot | null;
  after: EntitlementSnapshot;
};

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

export function snapshotOfDecision(decided: FeatureEntitlement): EntitlementSnapshot {
  return {
    status: decided.status,
    limit: decided.limit === null ? null : normalizeDecimal(decided.limit),
    reset: decided.reset,
    period_start: iso(decided.periodStart),
    period_end: iso(decided.periodEnd),
    grace_until: iso(decided.graceUntil),
    reason: decided.reason,
    source: [...decided.sourceSubscriptionIds],
  };
}

export function snapshotOfStored(row: StoredEntitlement): EntitlementSnapshot {
  return {
    status: row.status,
    limit: row.limit === null ? null : normalizeDecimal(row.limit),
    reset: row.reset,
    period_start: iso(row.periodStart),
    period_end: iso(row.periodEnd),
    grace_until: iso(row.graceUntil),
    reason: row.reason,
    source: row.source === null || row.source === "" ? [] : row.source.split(","),
  };
}

function sameSnapshot(a: EntitlementSnapshot, b: EntitlementSnapshot): boolean {
  return (
    a.status === b.status &&
    a.limit === b.limit &&
    a.reset === b.reset &&
    a.period_start === b.period_start &&
    a.period_end === b.period_end &&
    a.grace_until === b.grace_until &&
    a.reason === b.reason &&
    a.source.join(",") === b.source.join(",")
  );
}

const hasAccess = (status: EntitlementStatus) => status !== "revoked";

function actionOf(before: EntitlementSnapshot | null, after: EntitlementSnapshot): AccessAction {
  const had = before !== null && hasAccess(before.status);
  if (!had && hasAccess(after.status)) return "grant";
  if (had && !hasAccess(after.status)) return "revoke";
  return "change";
}

/**
 * What must be written to move the stored entitlements to the decided ones: nothing when they already agree
 * (so applying twice logs nothing). A stored feature no plan grants any more is revoked, never deleted; a
 * feature that was never granted gets no row just because a subscription that would grant it is not paid.
 */
export function decideAccessChanges(
  stored: readonly StoredEntitlement[],
  decided: readonly FeatureEntitlement[],
): AccessChange[] {
  const storedByFeature = new Map(stored.map((row) => [row.feature, snapshotOfStored(row)]));
  const changes: AccessChange[] = [];
  for (const feature of decided) {
    const before = storedByFeature.get(feature.feature) ?? null;
    const after = snapshotOfDecision(feature);
    if (before === null && !hasAccess(after.status)) continue;
    if (before !== null && sameSnapshot(before, after)) continue;
    changes.push({ feature: feature.feature, action: actionOf(before, after), before, after });
  }
  const decidedFeatures = new Set(decided.map((feature) => feature.feature));
  for (const [feature, before] of [...storedByFeature].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (decidedFeatures.has(feature) || !hasAccess(before.status)) continue;
    const after = snapshotOfDecision(revokedEntitlement(feature, REASONS.noPlanGrantsFeature));
    changes.push({ feature, action: "revoke", before, after });
  }
  return changes;
}
