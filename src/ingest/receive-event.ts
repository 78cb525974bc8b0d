import type { Logger } from "../config/logger.js";
import { type EventQueueTarget, enqueueProcessing } from "./event-queue.js";
import type { IntakeStore, StoredDelivery, WebhookDelivery } from "./intake-store.js";
import { jsonbStorableText } from "./jsonb-text.js";

export type ReceiveResult = {
  eventId: string;
  firstDelivery: boolean;
  deliveryCount: number;
  /** False when the event is already handled, already queued, or left in the outbox for the sweeper. */
  enqueued: boolean;
};

/**
 * Webhook intake: durably store the event, then hand it to the queue. Only the store may throw (the caller
 * answers 5xx so Stripe retries); a queue outage leaves the event received for the outbox sweeper.
 */
export async function receiveStripeEvent(
  store: IntakeStore,
  target: EventQueueTarget,
  delivery: WebhookDelivery,
  log: Logger,
): Promise<ReceiveResult> {
  const { event } = delivery;
  const storable = jsonbStorableText(delivery.body);
  if (storable.replaced > 0)
    log.warn(
      { event_id: event.id, type: event.type, replaced: storable.replaced },
      "stripe event stored with U+FFFD for characters Postgres cannot hold",
    );
  const stored = await store.saveDelivery({ ...delivery, body: storable.text });
  let enqueued = false;
  if (stored.inserted) {
    // Stored already marked queued; if the job cannot be added, the mark goes back so the sweeper finds it.
    enqueued = await enqueueProcessing(target, stored, log);
    if (!enqueued) await settleStatus(store.unmarkQueued(stored), stored, log);
  } else if (redrivesOnDelivery(stored)) {
    enqueued = await enqueueProcessing(target, stored, log, { replaceFinished: true });
    if (enqueued) await settleStatus(store.markQueued(stored), stored, log);
  }
  // The stored row is the record of every delivery; a line per event is for debugging, a redelivery is news.
  log[stored.inserted ? "debug" : "info"](
    { event_id: event.id, type: event.type, delivery: stored.deliveryCount, status: stored.status, enqueued },
    "stripe event received",
  );
  return {
    eventId: event.id,
    firstDelivery: stored.deliveryCount === 1,
    deliveryCount: stored.deliveryCount,
    enqueued,
  };
}

/**
 * A redelivery re-drives an event left in the outbox, a failed one (Stripe's redelivery is a re-drive), and a
 * queued one no worker has taken yet: its job id makes that a no-op when the job is there, and restores the job
 * when the process that stored the event stopped before adding it.
 */
function redrivesOnDelivery(stored: StoredDelivery): boolean {
  return (
    stored.status === "received" ||
    stored.status === "failed" ||
    (stored.status === "queued" && stored.attempts === 0)
  );
}

/** The event is stored (the 2xx is owed); a failed status mark is left to the sweeper, not turned into a 5xx. */
async function settleStatus(mark: Promise<void>, stored: StoredDelivery, log: Logger): Promise<void> {
  try {
    await mark;
  } catch (error) {
    log.warn(
      { event_id: stored.id, err: (error as Error).message },
      "stripe event status not updated after enqueue",
    );
  }
}
