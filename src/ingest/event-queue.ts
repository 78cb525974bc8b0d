import type { AppContext } from "../app-context.js";
import type { Config } from "../config/config.js";
import type { Logger } from "../config/logger.js";
import type { Db, Prisma } from "../db/client.js";
import { createMicroBatch } from "../micro-batch.js";
import { createFailFastRedis } from "../queue/connection.js";
import { createQueue, enqueue } from "../queue/queues.js";
import { JOBS, QUEUES } from "../queue/registry.js";
import { withTimeout } from "../timeout.js";

export type EventQueue = AppContext["queues"]["stripeEvents"];
export type EventStatus = Prisma.StripeEventModel["status"];

export type ProcessEventJobData = { eventId: string; force?: boolean };

export type ProcessingJob = { jobId: string; data: ProcessEventJobData };

/** Where processing jobs go, and whether it is worth trying right now (false while Redis is known down). */
export type EventQueueTarget = {
  queue: EventQueue;
  isReady?: () => boolean;
  timeoutMs?: number;
  /** Adds a plain processing job together with others added meanwhile (one round trip per batch). */
  addJob?: (job: ProcessingJob) => Promise<void>;
};

/** The stored fields that decide a job id and guard the queued mark. */
export type EventQueueState = { id: string; status: EventStatus; attempts: number };

const DEFAULT_ENQUEUE_TIMEOUT_MS = 2000;

/**
 * One job id per processing generation: concurrent deliveries of a new event share `evt_..-0` (one job), while a
 * failed event (attempts moved on) gets a fresh id that no leftover job can swallow.
 */
export function processJobId(
  eventId: string,
  attempts: number,
  kind: "process" | "replay" = "process",
): string {
  return kind === "replay" ? `${eventId}-${attempts}-replay` : `${eventId}-${attempts}`;
}

/** The intake's own queue on a fail-fast Redis connection, so a Redis outage costs a request milliseconds. */
export function createIntakeQueue(
  config: Config,
  logger: Logger,
): EventQueueTarget & { close: () => Promise<void> } {
  const connection = createFailFastRedis(config.redisUrl);
  const queue = createQueue({ connection, prefix: config.queuePrefix }, QUEUES.stripeEvents);
  let lastWarnedAt = 0;
  const warn = (error: Error) => {
    // One line per half minute: an outage would otherwise log every reconnect attempt.
    if (Date.now() - lastWarnedAt < 30_000) return;
    lastWarnedAt = Date.now();
    logger.warn({ err: error.message }, "intake queue unavailable; events stay in the outbox");
  };
  connection.on("error", warn);
  queue.on("error", warn);
  const addJob = createMicroBatch<ProcessingJob, void>({
    maxBatchSize: 256,
    maxInFlight: 4,
    // A pipeline of adds: a job id already present stays one job, exactly as with one add per event.
    run: async (jobs) => {
      await queue.addBulk(
        jobs.map(({ jobId, data }) => ({ name: JOBS.processStripeEvent, data, opts: { jobId } })),
      );
      return jobs.map(() => undefined);
    },
  });
  return {
    queue,
    isReady: () => connection.status === "ready",
    timeoutMs: DEFAULT_ENQUEUE_TIMEOUT_MS,
    addJob,
    close: async () => {
      await queue.close().catch(() => {});
      connection.disconnect();
    },
  };
}

export type QueueOptions = {
  /** Re-apply even when already processed or ignored (operator replay). */
  force?: boolean;
  /** Drop a finished job that holds the same id, so a re-drive is never swallowed by a leftover. */
  replaceFinished?: boolean;
};

/**
 * Adds the processing job for a stored event. Returns false (the event stays in the outbox for the sweeper) when
 * Redis is down or too slow; never throws for that.
 */
export async function enqueueProcessing(
  target: EventQueueTarget,
  event: EventQueueState,
  log: Logger,
  options: QueueOptions = {},
): Promise<boolean> {
  const jobId = processJobId(event.id, event.attempts, options.force ? "replay" : "process");
  const timeoutMs = target.timeoutMs ?? DEFAULT_ENQUEUE_TIMEOUT_MS;
  try {
    if (target.isReady && !target.isReady()) throw new Error("Redis connection is not ready");
    await withTimeout(
      addProcessingJob(target, jobId, { eventId: event.id, force: options.force ?? false }, options),
      timeoutMs,
      `enqueue timed out after ${timeoutMs} ms`,
    );
    return true;
  } catch (error) {
    log.warn(
      { event_id: event.id, err: (error as Error).message },
      "stripe event not enqueued; left in outbox",
    );
    return false;
  }
}

/**
 * Marks an event queued, guarded by the state seen before enqueueing: a worker that already finished it is never
 * set back, and a forced re-apply keeps processed/ignored so no other job of the event takes it as work to do.
 * $1 id, $2 status seen, $3 attempts seen.
 */
export const MARK_QUEUED_SQL = `
  UPDATE stripe_events SET status = 'queued', "queuedAt" = (now() AT TIME ZONE 'UTC')
  WHERE id = $1 AND status = $2::"EventStatus" AND attempts = $3
    AND status IN ('received', 'queued', 'failed', 'unsupported')`;

/** Enqueues a stored event and marks it queued (Prisma paths: sweeper, replay, backfill). */
export async function queueStoredEvent(
  db: Db,
  target: EventQueueTarget,
  event: EventQueueState,
  log: Logger,
  options: QueueOptions = {},
): Promise<boolean> {
  if (!(await enqueueProcessing(target, event, log, options))) return false;
  await db.$executeRawUnsafe(MARK_QUEUED_SQL, event.id, event.status, event.attempts);
  return true;
}

async function addProcessingJob(
  target: EventQueueTarget,
  jobId: string,
  data: ProcessEventJobData,
  options: QueueOptions,
): Promise<void> {
  // A plain add goes with the others of this moment; replacing a finished job needs its own look first.
  if (!options.replaceFinished && target.addJob !== undefined) return target.addJob({ jobId, data });
  const queue = target.queue;
  if (options.replaceFinished) {
    const state = await queue.getJobState(jobId);
    if (state === "completed" || state === "failed") await queue.remove(jobId);
  }
  await enqueue(queue, JOBS.processStripeEvent, data, { jobId });
}
