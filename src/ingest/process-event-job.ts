import { z } from "zod";
import type { AppContext } from "../app-context.js";
import type { Logger } from "../config/logger.js";
import { DomainError, isDomainError } from "../errors.js";
import type { Job } from "../queue/queues.js";
import { applyStripeEvent } from "../sync/apply-event.js";
import type { StoredStripeEvent, SyncOutcome } from "../sync/types.js";
import { decideOutcomeRecord, isHandled } from "./event-outcome.js";
import type { EventStatus } from "./event-queue.js";

export type ApplyStripeEvent = (
  ctx: AppContext,
  event: StoredStripeEvent,
  log: Logger,
) => Promise<SyncOutcome>;

export type ProcessResult = { eventId: string; status: EventStatus; attempts: number; skipped: boolean };

const jobDataSchema = z.object({ eventId: z.string().min(1), force: z.boolean().optional() });

// An event can sit in two jobs at once (a redelivery or replay while a retry waits); applying is one at a time.
const APPLY_TIMEOUT_MS = 10 * 60_000;

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
 * Loads the stored event, skips it when already handled, else counts the attempt, applies it through sync and
 * records processed / ignored / unsupported, or failed (then rethrows so the queue retries with backoff).
 */
export async function processStripeEvent(
  ctx: AppContext,
  eventId: string,
  log: Logger,
  options: { force?: boolean; apply?: ApplyStripeEvent } = {},
): Promise<ProcessResult> {
  const apply = options.apply ?? applyStripeEvent;
  // The transaction only holds a per-event advisory lock; the writes commit on their own as they happen.
  return ctx.db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`stripe_event:${eventId}`}, 0))`;
      const row = await tx.stripeEvent.findUnique({ where: { id: eventId } });
      if (row === null) throw new DomainError("event_not_found", `stripe event ${eventId} is not stored`);
      if (isHandled(row.status) && !options.force) {
        log.info({ event_id: eventId, type: row.type, status: row.status }, "stripe event already handled");
        return { eventId, status: row.status, attempts: row.attempts, skipped: true };
      }
      const attempts = row.attempts + 1;
      await ctx.db.stripeEvent.update({ where: { id: eventId }, data: { attempts } });
      const event: StoredStripeEvent = {
        id: row.id,
        type: row.type,
        apiVersion: row.apiVersion,
        created: row.stripeCreated,
        payload: row.payload,
      };
      let outcome: SyncOutcome;
      try {
        outcome = await apply(ctx, event, log);
      } catch (error) {
        const lastError = describeError(error);
        await ctx.db.stripeEvent.update({ where: { id: eventId }, data: { status: "failed", lastError } });
        log.warn(
          { event_id: eventId, type: row.type, status: "failed", attempts, err: lastError },
          "stripe event failed",
        );
        throw error;
      }
      const record = decideOutcomeRecord(outcome);
      await ctx.db.stripeEvent.update({
        where: { id: eventId },
        data: { ...record, processedAt: new Date() },
      });
      log.info(
        {
          event_id: eventId,
          type: row.type,
          status: record.status,
          outcome: outcome.status,
          reason: "reason" in outcome ? outcome.reason : undefined,
          attempts,
        },
        "stripe event handled",
      );
      return { eventId, status: record.status, attempts, skipped: false };
    },
    { timeout: APPLY_TIMEOUT_MS, maxWait: 30_000 },
  );
}

function describeError(error: unknown): string {
  if (isDomainError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
