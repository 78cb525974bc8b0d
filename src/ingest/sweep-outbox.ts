import type { Logger } from "../config/logger.js";
import type { Db } from "../db/client.js";
import { type EventQueueTarget, queueStoredEvent } from "./event-queue.js";

export type SweepOptions = {
  /** A received event younger than this may still be on its way to the queue from the webhook request. */
  receivedGraceMs?: number;
  /** A queued event older than this may have lost its job (Redis restored, job removed); queue it again. */
  queuedStaleMs?: number;
  limit?: number;
  now?: Date;
};

export type SweepResult = { found: number; enqueued: number };

/**
 * The outbox sweeper: enqueues stored events the intake could not hand to Redis, and re-drives queued events
 * whose job may be gone. Stops at the first enqueue that fails (Redis still down) and leaves the rest.
 */
export async function sweepOutbox(
  db: Db,
  target: EventQueueTarget,
  log: Logger,
  options: SweepOptions = {},
): Promise<SweepResult> {
  const now = options.now ?? new Date();
  const events = await db.stripeEvent.findMany({
    where: {
      OR: [
        {
          status: "received",
          receivedAt: { lte: new Date(now.getTime() - (options.receivedGraceMs ?? 10_000)) },
        },
        {
          status: "queued",
          queuedAt: { lte: new Date(now.getTime() - (options.queuedStaleMs ?? 15 * 60_000)) },
        },
      ],
    },
    select: { id: true, status: true, attempts: true },
    orderBy: { receivedAt: "asc" },
    take: options.limit ?? 500,
  });
  let enqueued = 0;
  for (const event of events) {
    if (!(await queueStoredEvent(db, target, event, log, { replaceFinished: true }))) break;
    enqueued += 1;
  }
  if (events.length > 0) log.info({ found: events.length, enqueued }, "outbox swept");
  return { found: events.length, enqueued };
}
