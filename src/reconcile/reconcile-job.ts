import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import type { AppContext } from "../app-context.js";
import type { Logger } from "../config/logger.js";
import { DomainError } from "../errors.js";
import { enqueue, type Job } from "../queue/queues.js";
import { JOBS } from "../queue/registry.js";
import { isoTime } from "./findings.js";
import {
  assertValidPeriod,
  RECONCILE_TRIGGERS,
  type ReconcileRequest,
  runReconciliation,
} from "./run-reconciliation.js";

/** What a finished reconcile job returns (BullMQ keeps it as the job's return value). */
export type ReconcileJobResult = { runId: string; findings: number; period: { from: string; to: string } };

const NIGHTLY_SCHEDULER_ID = "nightly-reconcile";
const DAY_MS = 24 * 60 * 60 * 1000;

const periodJobData = z.object({
  from: z.iso.datetime({ offset: true }),
  to: z.iso.datetime({ offset: true }),
  trigger: z.enum(RECONCILE_TRIGGERS).default("api"),
});

export async function processReconcileJob(
  ctx: AppContext,
  job: Job,
  log: Logger,
): Promise<ReconcileJobResult> {
  const request = requestOf(job);
  log.info({ from: isoTime(request.from), to: isoTime(request.to), trigger: request.trigger }, "reconciling");
  const { runId, report } = await runReconciliation(ctx, request, (message) => {
    job.log(message).catch(() => {});
  });
  return { runId, findings: report.findings.length, period: report.period };
}

function requestOf(job: Job): ReconcileRequest {
  switch (job.name) {
    case JOBS.reconcilePeriod: {
      const parsed = periodJobData.safeParse(job.data);
      if (!parsed.success) {
        throw new DomainError(
          "invalid_job",
          `reconcile job data: ${parsed.error.issues[0]?.message ?? "invalid"}`,
        );
      }
      return { from: new Date(parsed.data.from), to: new Date(parsed.data.to), trigger: parsed.data.trigger };
    }
    case JOBS.nightlyReconcile: {
      // The time the scheduler fired for, not when a worker got to it: a late or retried job covers the same day.
      const scheduledAt = typeof job.opts.prevMillis === "number" ? job.opts.prevMillis : job.timestamp;
      return { ...previousUtcDay(new Date(scheduledAt)), trigger: "schedule" };
    }
    default:
      throw new DomainError("unknown_job", `reconcile job ${job.name} has no handler`);
  }
}

/**
 * The nightly period is the previous full UTC day [yesterday 00:00, today 00:00). Stripe finalizes subscription
 * invoices about an hour after creating them, so the default schedule (03:00 UTC) sees yesterday's invoices final.
 */
export function previousUtcDay(at: Date): { from: Date; to: Date } {
  const to = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  return { from: new Date(to.getTime() - DAY_MS), to };
}

/**
 * Upserts the nightly job scheduler (LEAKGUARD_RECONCILE_CRON, read in UTC). Every worker calls this at start; the
 * scheduler id makes it one schedule, and its per-fire job id makes one run per night however many workers there are.
 */
export async function scheduleNightlyReconcile(ctx: AppContext): Promise<void> {
  await ctx.queues.reconcile.upsertJobScheduler(
    NIGHTLY_SCHEDULER_ID,
    { pattern: ctx.config.reconcileCron, tz: "UTC" },
    { name: JOBS.nightlyReconcile, data: { trigger: "schedule" } },
  );
}

/** Queues a reconciliation of [from, to) for a worker; returns the job id to wait on. */
export async function enqueueReconciliation(ctx: AppContext, request: ReconcileRequest): Promise<string> {
  assertValidPeriod(request);
  const jobId = await enqueue(ctx.queues.reconcile, JOBS.reconcilePeriod, {
    from: request.from.toISOString(),
    to: request.to.toISOString(),
    trigger: request.trigger,
  });
  if (jobId === undefined) throw new Error("the reconcile queue did not return a job id");
  return jobId;
}

/**
 * Waits for a queued reconciliation by polling its job (works from any process, no event stream to hold open).
 * Resolves with the job's result; rejects when it failed for good or the wait timed out.
 */
export async function waitForReconciliation(
  ctx: AppContext,
  jobId: string,
  options: { timeoutMs?: number; pollMs?: number } = {},
): Promise<ReconcileJobResult> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    const state = await ctx.queues.reconcile.getJobState(jobId);
    if (state === "unknown") throw new Error(`reconciliation job ${jobId} does not exist`);
    if (state === "completed" || state === "failed") {
      // Read the job once its state is final, so its result or failure reason is the final one.
      const job = await ctx.queues.reconcile.getJob(jobId);
      if (state === "completed") return job?.returnvalue as ReconcileJobResult;
      throw new Error(`reconciliation job ${jobId} failed: ${job?.failedReason ?? "no reason recorded"}`);
    }
    if (Date.now() >= deadline)
      throw new Error(`reconciliation job ${jobId} is still ${state}; gave up waiting`);
    await sleep(options.pollMs ?? 200);
  }
}
