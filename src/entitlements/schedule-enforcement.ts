import type { AppContext } from "../app-context.js";
import { ENTITLEMENT_JOBS, entitlementQueue } from "./entitlement-queue.js";

// Just after the boundary; the job also decides as of the boundary itself, so clock skew cannot skip it.
const AFTER_BOUNDARY_MS = 250;

export type EnforceEntitlementsData = { stripeCustomerId: string; at: string };

/**
 * Queues a re-decision at the moment a customer's access changes by the clock alone (grace runs out, a
 * scheduled cancellation takes effect), so revocation happens even if Stripe's webhook never arrives.
 * One job per customer and moment: scheduling the same boundary again is a no-op.
 */
export async function scheduleEntitlementEnforcement(
  ctx: AppContext,
  stripeCustomerId: string,
  at: Date,
  now: Date,
): Promise<void> {
  const data: EnforceEntitlementsData = { stripeCustomerId, at: at.toISOString() };
  await entitlementQueue(ctx).add(ENTITLEMENT_JOBS.enforce, data, {
    jobId: `${ENTITLEMENT_JOBS.enforce}_${stripeCustomerId}_${at.getTime()}`,
    delay: Math.max(0, at.getTime() - now.getTime()) + AFTER_BOUNDARY_MS,
  });
}
