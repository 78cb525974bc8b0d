import pg from "pg";
import type { IncomingStripeEvent } from "./event-envelope.js";
import { type EventQueueState, type EventStatus, MARK_QUEUED_SQL } from "./event-queue.js";

/** A verified webhook: the event read from the body, and the body exactly as signed (what is stored). */
export type WebhookDelivery = { event: IncomingStripeEvent; body: string };

export type StoredDelivery = EventQueueState & { deliveryCount: number };

/** The webhook's two writes: store a delivery, mark it queued. */
export type IntakeStore = {
  saveDelivery: (delivery: WebhookDelivery) => Promise<StoredDelivery>;
  markQueued: (event: EventQueueState) => Promise<void>;
  close: () => Promise<void>;
};

/**
 * One statement per delivery: a new event is inserted as received; a redelivery only bumps deliveryCount and
 * lastDeliveredAt (concurrent duplicates meet on the primary key, never as two rows).
 */
const SAVE_DELIVERY_SQL = `
  INSERT INTO stripe_events
    (id, type, "apiVersion", "stripeCreated", "objectId", livemode, payload, source, "receivedAt", "lastDeliveredAt")
  VALUES ($1, $2, $3, ($4::timestamptz AT TIME ZONE 'UTC'), $5, $6, $7::jsonb, 'webhook',
          (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC'))
  ON CONFLICT (id) DO UPDATE
    SET "deliveryCount" = stripe_events."deliveryCount" + 1, "lastDeliveredAt" = (now() AT TIME ZONE 'UTC')
  RETURNING status::text AS status, attempts, "deliveryCount"`;

/**
 * The intake's store, on plain pg: the request path runs two statements and Prisma's per-query overhead is
 * several times their cost (see bench/intake.bench.ts). Everything else reads and writes through Prisma.
 */
export function createIntakeStore(databaseUrl: string, poolSize = 10): IntakeStore {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize });
  // An idle connection dropped by the server must not crash the process; the next query reconnects.
  pool.on("error", () => {});
  return {
    saveDelivery: async ({ event, body }) => {
      const result = await pool.query<{ status: EventStatus; attempts: number; deliveryCount: number }>(
        SAVE_DELIVERY_SQL,
        [
          event.id,
          event.type,
          event.apiVersion,
          event.created.toISOString(),
          event.objectId,
          event.livemode,
          // The body as signed, not a re-serialisation: Postgres parses it once into jsonb.
          body,
        ],
      );
      const row = result.rows[0]!;
      return { id: event.id, status: row.status, attempts: row.attempts, deliveryCount: row.deliveryCount };
    },
    markQueued: async (event) => {
      await pool.query(MARK_QUEUED_SQL, [event.id, event.status, event.attempts]);
    },
    close: () => pool.end(),
  };
}
