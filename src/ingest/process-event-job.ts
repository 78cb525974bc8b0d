import { z } from "zod";
import type { AppContext } from "../app-context.js";
import type { Logger } from "../config/logger.js";
import type { Db } from "../db/client.js";
import { DomainError } from "../errors.js";
import type { Job } from "../queue/queues.js";
import { applyStripeEvent } from "../sync/apply-event.js";
import type { StoredStripeEvent, SyncOutcome } from "../sync/types.js";
import { decideOutcomeRecord, describeEventError, isHandled } from "./event-outcome.js";
import type { EventStatus } from "./event-queue.js";

export type ApplyStripeEvent = (
  ctx: AppContext,
  event: StoredStripeEvent,
  log: Logger,
) => Promise<SyncOutcome>;

export type ProcessResult = { eventId: string; status: EventStatus; attempts: number; skipped: boolean };

const jobDataSchema = z.object({ eventId: z.string().min(1), force: z.boolean().optional() });

/** How long a worker's claim on an event lasts: far longer than an apply, short enough to outlive a crash. */
const CLAIM_MS = 2 * 60_000;

/** The `process-stripe-event` job: applies one stored event and records its outcome. */
export async function processStripeEventJob(
  ctx: AppContext,
  job: Job,
  log: Logger,
  apply: ApplyStripeEvent = applyStripeEvent,
): Promise<ProcessResult> {
  const data = jobDataSchema.safeParse(job.data);
  if (!data.success) throw new DomainError("invalid_job", `job ${job.id} has no event id`);
  const { eventId, force } = data.data;
  return processStripeEvent(ctx, eventId, log, { force: force ?? false, apply });
}

/**
 * Claims the stored event (counting the attempt), skips it when already handled, applies it through sync and
 * records processed / ignored / unsupported, or failed (then rethrows so the queue retries with backoff).
 */
export async function processStripeEvent(
  ctx: AppContext,
  eventId: string,
  log: Logger,
  options: { force?: boolean; apply?: ApplyStripeEvent } = {},
): Promise<ProcessResult> {
  const apply = options.apply ?? applyStripeEvent;
  const claimed = await claimEvent(ctx.db, eventId, options.force ?? false);
  if (claimed === null) return explainUnclaimed(ctx.db, eventId, log);
  const { event, attempts } = claimed;
  let outcome: SyncOutcome;
  try {
    outcome = await apply(ctx, event, log);
  } catch (error) {
    const lastError = describeEventError(error);
    await ctx.db.stripeEvent.update({
      where: { id: eventId },
      data: { status: "failed", lastError, processingUntil: null },
    });
    log.warn(
      { event_id: eventId, type: event.type, status: "failed", attempts, err: lastError },
      "stripe event failed",
    );
    throw error;
  }
  const record = decideOutcomeRecord(outcome);
  await ctx.db.stripeEvent.update({
    where: { id: eventId },
    data: { ...record, processedAt: new Date(), processingUntil: null },
  });
  log.info(
    {
      event_id: eventId,
      type: event.type,
      status: record.status,
      outcome: outcome.status,
      reason: "reason" in outcome ? outcome.reason : undefined,
      attempts,
    },
    "stripe event handled",
  );
  return { eventId, status: record.status, attempts, skipped: false };
}

/**
 * One statement: takes the event for this worker unless it is handled (and not forced) or another job holds an
 * unexpired claim. An event can sit in two jobs at once (a redelivery or replay while a retry waits).
 */
async function claimEvent(
  db: Db,
  eventId: string,
  force: boolean,
): Promise<{ event: StoredStripeEvent; attempts: number } | null> {
  const rows = await db.$queryRaw<
    {
      id: string;
      type: string;
      apiVersion: string | null;
      stripeCreated: Date;
      payload: unknown;
      attempts: number;
    }[]
  >`
    UPDATE stripe_events
    SET attempts = attempts + 1,
        "processingUntil" = (now() AT TIME ZONE 'UTC') + ${CLAIM_MS} * interval '1 millisecond'
    WHERE id = ${eventId}
      AND (${force} OR status NOT IN ('processed', 'ignored'))
      AND ("processingUntil" IS NULL OR "processingUntil" < (now() AT TIME ZONE 'UTC'))
    RETURNING id, type, "apiVersion", "stripeCreated", payload, attempts`;
  const row = rows[0];
  if (row === undefined) return null;
  return {
    event: {
      id: row.id,
      type: row.type,
      apiVersion: row.apiVersion,
      created: row.stripeCreated,
      payload: row.payload,
    },
    attempts: row.attempts,
  };
}

/** Not claimed: not stored (permanent), already handled (a no-op), or being applied by another job (retry). */
async function explainUnclaimed(db: Db, eventId: string, log: Logger): Promise<ProcessResult> {
  const row = await db.stripeEvent.findUnique({
    where: { id: eventId },
    select: { type: true, status: true, attempts: true },
  });
  if (row === null) throw new DomainError("event_not_found", `stripe event ${eventId} is not stored`);
  if (isHandled(row.status)) {
    log.info({ event_id: eventId, type: row.type, status: row.status }, "stripe event already handled");
    return { eventId, status: row.status, attempts: row.attempts, skipped: true };
  }
  throw new Error(`stripe event ${eventId} is being applied by another job`);
}
