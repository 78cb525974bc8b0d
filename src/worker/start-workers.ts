import type { AppContext } from "../app-context.js";
import { processEntitlementJob, scheduleEntitlementMaintenance } from "../entitlements/entitlement-jobs.js";
import { processIngestMaintenanceJob, scheduleIngestMaintenance } from "../ingest/maintenance-jobs.js";
import { processStripeEventJob } from "../ingest/process-event-job.js";
import { sweepOutbox } from "../ingest/sweep-outbox.js";
import { processReportUsageJob, scheduleUsageReporting } from "../ledger/report-usage-job.js";
import { createRedis } from "../queue/connection.js";
import type { Worker } from "../queue/queues.js";
import { assertNoEviction, createWorker } from "../queue/queues.js";
import { QUEUES } from "../queue/registry.js";
import { processReconcileJob, scheduleNightlyReconcile } from "../reconcile/reconcile-job.js";
import { STRIPE_API_VERSION } from "../stripe/client.js";

export type RunningWorkers = { workers: Worker[]; close: () => Promise<void> };

/** Starts every queue's worker in this process. Many such processes may share one Redis and Postgres. */
export async function startWorkers(ctx: AppContext): Promise<RunningWorkers> {
  await assertNoEviction(ctx.redis);
  const connection = createRedis(ctx.config.redisUrl);
  const base = {
    connection,
    prefix: ctx.config.queuePrefix,
    logger: ctx.logger,
    concurrency: ctx.config.workerConcurrency,
  };
  const workers = [
    createWorker(base, QUEUES.stripeEvents, (job, log) => processStripeEventJob(ctx, job, log)),
    createWorker({ ...base, concurrency: 1 }, QUEUES.reconcile, (job, log) =>
      processReconcileJob(ctx, job, log),
    ),
    createWorker({ ...base, concurrency: 1 }, QUEUES.usageReports, (job, log) =>
      processReportUsageJob(ctx, job, log),
    ),
    // Outbound webhook calls can take seconds each: their own queue, so they never hold up maintenance.
    createWorker(base, QUEUES.entitlements, (job, log) => processEntitlementJob(ctx, job, log)),
    createWorker({ ...base, concurrency: 1 }, QUEUES.maintenance, (job, log) =>
      processIngestMaintenanceJob(ctx, job, log),
    ),
  ];
  await scheduleNightlyReconcile(ctx);
  await scheduleUsageReporting(ctx);
  await scheduleEntitlementMaintenance(ctx);
  await scheduleIngestMaintenance(ctx);
  // Events stored while Redis was down are queued now, not at the first scheduled sweep.
  await sweepOutbox(ctx.db, { queue: ctx.queues.stripeEvents }, ctx.logger);
  ctx.logger.info({ stripe_api_version: STRIPE_API_VERSION }, "workers running");
  return {
    workers,
    close: async () => {
      await Promise.allSettled(workers.map((worker) => worker.close()));
      connection.disconnect();
    },
  };
}
