import type { Logger } from "../config/logger.js";
import type { Db } from "../db/client.js";
import { DomainError } from "../errors.js";
import { type EventQueueTarget, type EventStatus, processJobId, queueStoredEvent } from "./event-queue.js";

export type ReplayResult = { eventId: string; previousStatus: EventStatus; jobId: string };

/**
 * Re-drives one stored event through processing, whatever its status; a processed event is applied again only
 * with `force`. The job id is fresh per attempt and a finished leftover with the same id is removed first.
 */
export async function replayStripeEvent(
  db: Db,
  target: EventQueueTarget,
  eventId: string,
  log: Logger,
  options: { force?: boolean } = {},
): Promise<ReplayResult> {
  const event = await db.stripeEvent.findUnique({
    where: { id: eventId },
    select: { id: true, status: true, attempts: true },
  });
  if (event === null) throw new DomainError("event_not_found", `stripe event ${eventId} is not stored`);
  if (event.status === "processed" && !options.force) {
    throw new DomainError(
      "event_already_processed",
      `stripe event ${eventId} is already processed; pass --force to apply it again`,
    );
  }
  const queued = await queueStoredEvent(db, target, event, log, { force: true, replaceFinished: true });
  if (!queued) throw new Error(`could not enqueue stripe event ${eventId}: Redis is unavailable`);
  log.info({ event_id: eventId, previous_status: event.status }, "stripe event replayed");
  return { eventId, previousStatus: event.status, jobId: processJobId(eventId, event.attempts, "replay") };
}
