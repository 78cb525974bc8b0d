import type { AppContext } from "../app-context.js";
import type { Db } from "../db/client.js";
import { applyEntitlementsForCustomer } from "../entitlements/apply-entitlements.js";
import { mapConcurrently } from "../map-concurrently.js";
import { saveFetchedSubscription } from "../sync/save-fetched.js";
import { decideResolution, type EnforcedAccess, failedResolution } from "./decide-enforcement.js";
import type { FindingDraft, FindingResolution } from "./findings.js";
import type { Progress, StripeSubscriptions } from "./load-inputs.js";

/** The cause a reconciliation run's revocations carry in the access log. */
function reconcileCause(runId: string): string {
  return `check:reconcile:${runId}`;
}

const ENFORCE_CONCURRENCY = 4;
const NOT_HELD: EnforcedAccess = { status: null, reason: null, revokedBy: null };

/**
 * Revokes the access behind each access_not_revoked finding: saves what Stripe listed for the customer into the
 * mirror, then recomputes the customer's entitlements with the run as cause (one access-log row per revoked
 * feature; a second run finds nothing left to change). Returns what became of each finding; a customer whose
 * enforcement failed keeps its findings open with the error, and never fails the run.
 */
export async function applyAccessEnforcement(
  ctx: AppContext,
  runId: string,
  findings: readonly FindingDraft[],
  stripeSubscriptions: StripeSubscriptions,
  progress: Progress,
): Promise<FindingResolution[]> {
  const byCustomer = new Map<string, FindingDraft[]>();
  for (const finding of findings) {
    if (finding.category !== "access_not_revoked") continue;
    byCustomer.set(finding.customerId, [...(byCustomer.get(finding.customerId) ?? []), finding]);
  }
  const cause = reconcileCause(runId);
  const resolved = await mapConcurrently([...byCustomer], ENFORCE_CONCURRENCY, ([customerId, lapsed]) =>
    enforceCustomer(ctx, customerId, lapsed, stripeSubscriptions, cause),
  );
  const resolutions = resolved.flat();
  const fixed = resolutions.filter((resolution) => resolution.status === "fixed").length;
  if (resolutions.length > 0)
    progress(
      `access_not_revoked: ${fixed} of ${resolutions.length} finding(s) fixed by revoking access (${cause})`,
    );
  return resolutions;
}

async function enforceCustomer(
  ctx: AppContext,
  customerId: string,
  lapsed: readonly FindingDraft[],
  stripeSubscriptions: StripeSubscriptions,
  cause: string,
): Promise<FindingResolution[]> {
  try {
    for (const snapshot of stripeSubscriptions.byCustomer.get(customerId) ?? [])
      await saveFetchedSubscription(ctx, { snapshot, fetchedAt: stripeSubscriptions.fetchedAt });
    await applyEntitlementsForCustomer(ctx, customerId, { cause });
    const features = lapsed.flatMap((finding) => (finding.feature === null ? [] : [finding.feature]));
    const access = await loadEnforcedAccess(ctx.db, customerId, features);
    return lapsed.map((finding) =>
      decideResolution(finding, (finding.feature && access.get(finding.feature)) || NOT_HELD, cause),
    );
  } catch (error) {
    const message = (error as Error).message;
    ctx.logger.warn({ customer: customerId, cause, err: message }, "access not revoked by reconciliation");
    return lapsed.map((finding) => failedResolution(finding, cause, message));
  }
}

/** Each feature's entitlement now, and the newest access-log row that revoked it. */
async function loadEnforcedAccess(
  db: Db,
  customerId: string,
  features: readonly string[],
): Promise<Map<string, EnforcedAccess>> {
  const [rows, revokes] = await Promise.all([
    db.entitlement.findMany({
      where: { customerId, feature: { in: [...features] } },
      select: { feature: true, status: true, reason: true },
    }),
    db.accessLog.findMany({
      where: { customerId, feature: { in: [...features] }, action: "revoke" },
      select: { id: true, feature: true, cause: true, createdAt: true },
      orderBy: { seq: "desc" },
    }),
  ]);
  return new Map(
    features.map((feature) => {
      const row = rows.find((candidate) => candidate.feature === feature);
      const revoke = revokes.find((candidate) => candidate.feature === feature);
      return [
        feature,
        {
          status: row?.status ?? null,
          reason: row?.reason ?? null,
          revokedBy:
            revoke === undefined
              ? null
              : { accessLogId: revoke.id, cause: revoke.cause, at: revoke.createdAt },
        },
      ];
    }),
  );
}
