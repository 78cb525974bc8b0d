import type { AppContext } from "../app-context.js";

/** Job names of the entitlements layer, all run by processEntitlementJob. */
export const ENTITLEMENT_JOBS = {
  enforce: "enforce-entitlements",
  deliverWebhook: "deliver-entitlement-webhook",
  sweepWebhooks: "sweep-entitlement-webhooks",
} as const;

/** The one place that says which queue carries the entitlement jobs. */
export function entitlementQueue(ctx: AppContext): AppContext["queues"]["maintenance"] {
  return ctx.queues.maintenance;
}
