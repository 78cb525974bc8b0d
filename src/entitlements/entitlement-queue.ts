import type { AppContext } from "../app-context.js";
import { JOBS } from "../queue/registry.js";

/** Job names of the entitlements layer, all run by processEntitlementJob. */
export const ENTITLEMENT_JOBS = {
  enforce: JOBS.enforceEntitlements,
  deliverWebhook: JOBS.deliverEntitlementWebhook,
  sweepWebhooks: JOBS.sweepEntitlementWebhooks,
} as const;

/** The one place that says which queue carries the entitlement jobs. */
export function entitlementQueue(ctx: AppContext): AppContext["queues"]["entitlements"] {
  return ctx.queues.entitlements;
}
