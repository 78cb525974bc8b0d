/** Every queue and job name, in one place. */
export const QUEUES = {
  stripeEvents: "stripe-events",
  reconcile: "reconcile",
  maintenance: "maintenance",
  usageReports: "usage-reports",
  entitlements: "entitlements",
} as const;

export const JOBS = {
  processStripeEvent: "process-stripe-event",
  reconcilePeriod: "reconcile-period",
  nightlyReconcile: "nightly-reconcile",
  sweepOutbox: "sweep-outbox",
  backfillRecentEvents: "backfill-recent-events",
  reportUsage: "report-usage",
  enforceEntitlements: "enforce-entitlements",
  deliverEntitlementWebhook: "deliver-entitlement-webhook",
  sweepEntitlementWebhooks: "sweep-entitlement-webhooks",
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];
export type JobName = (typeof JOBS)[keyof typeof JOBS];
