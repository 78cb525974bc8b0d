import type { Logger } from "../config/logger.js";
import { type EventQueueTarget, type EventStatus, enqueueProcessing } from "./event-queue.js";
import type { IntakeStore, WebhookDelivery } from "./intake-store.js";

export type ReceiveResult = {
  eventId: string;
  firstDelivery: boolean;
  deliveryCount: number;
  /** False when the event is already handled, already queued, or left in the outbox for the sweeper. */
  enqueued: boolean;
};

/** Statuses a delivery (re)enqueues: new, stuck in the outbox, or failed (Stripe's redelivery is a re-drive). */
const ENQUEUE_ON_DELIVERY: ReadonlySet<EventStatus> = new Set(["received", "failed"]);

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
  const stored = await store.saveDelivery(delivery);
  const firstDelivery = stored.deliveryCount === 1;
  let enqueued = false;
  if (ENQUEUE_ON_DELIVERY.has(stored.status)) {
    enqueued = await enqueueProcessing(target, stored, log, { replaceFinished: !firstDelivery });
    if (enqueued) await store.markQueued(stored);
  }
  // The stored row is the record of every delivery; a line per event is for debugging, a redelivery is news.
  log[firstDelivery ? "debug" : "info"](
    { event_id: event.id, type: event.type, delivery: stored.deliveryCount, status: stored.status, enqueued },
    "stripe event received",
  );
  return { eventId: event.id, firstDelivery, deliveryCount: stored.deliveryCount, enqueued };
}
