import type { Db } from "../db/client.js";
import type { IncomingStripeEvent } from "./event-envelope.js";
import type { EventQueueState, EventStatus } from "./event-queue.js";

export type StoredDelivery = EventQueueState & { deliveryCount: number };

/**
 * Stores a webhook delivery by event id in one statement: a new event is inserted as received; a redelivery only
 * bumps deliveryCount and lastDeliveredAt (concurrent duplicates meet on the primary key, never as two rows).
 */
export async function saveDelivery(db: Db, event: IncomingStripeEvent): Promise<StoredDelivery> {
  const rows = await db.$queryRaw<{ status: EventStatus; attempts: number; deliveryCount: number }[]>`
    INSERT INTO stripe_events (id, type, "apiVersion", "stripeCreated", "objectId", livemode, payload, source)
    VALUES (${event.id}, ${event.type}, ${event.apiVersion}, ${event.created}, ${event.objectId},
            ${event.livemode}, ${JSON.stringify(event.payload)}::jsonb, 'webhook')
    ON CONFLICT (id) DO UPDATE
      SET "deliveryCount" = stripe_events."deliveryCount" + 1, "lastDeliveredAt" = CURRENT_TIMESTAMP
    RETURNING status::text AS status, attempts, "deliveryCount"`;
  const row = rows[0]!;
  return { id: event.id, status: row.status, attempts: row.attempts, deliveryCount: row.deliveryCount };
}

/**
 * Stores an event found in Stripe's events list that never arrived as a webhook (deliveryCount 0, source
 * backfill: the evidence of a missed delivery). Returns false when it is already stored.
 */
export async function saveBackfilledEvent(db: Db, event: IncomingStripeEvent): Promise<boolean> {
  const inserted = await db.$executeRaw`
    INSERT INTO stripe_events
      (id, type, "apiVersion", "stripeCreated", "objectId", livemode, payload, source, "deliveryCount")
    VALUES (${event.id}, ${event.type}, ${event.apiVersion}, ${event.created}, ${event.objectId},
            ${event.livemode}, ${JSON.stringify(event.payload)}::jsonb, 'backfill', 0)
    ON CONFLICT (id) DO NOTHING`;
  return inserted === 1;
}
