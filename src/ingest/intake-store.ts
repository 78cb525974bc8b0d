import { createPgPool } from "../db/pg-pool.js";
import { createMicroBatch } from "../micro-batch.js";
import type { IncomingStripeEvent } from "../stripe/normalize/event-envelope.js";
import { type EventQueueState, MARK_QUEUED_SQL } from "./event-queue.js";

/** A verified webhook: the event read from the body, and the body exactly as signed (what is stored). */
export type WebhookDelivery = { event: IncomingStripeEvent; body: string };

export type StoredDelivery = EventQueueState & {
  deliveryCount: number;
  /** This delivery created the row (stored already marked queued); false for a redelivery. */
  inserted: boolean;
};

/** The webhook's writes: store a delivery; take back the queued mark of a new event whose job could not be added. */
export type IntakeStore = {
  /** Resolves once this delivery is committed; rejects only when it could not be stored. */
  saveDelivery: (delivery: WebhookDelivery) => Promise<StoredDelivery>;
  /** Marks a redelivered event queued (guarded like MARK_QUEUED_SQL). */
  markQueued: (event: EventQueueState) => Promise<void>;
  /** Sets a new event back to received for the outbox sweeper, unless a worker has already taken it. */
  unmarkQueued: (event: EventQueueState) => Promise<void>;
  close: () => Promise<void>;
};

export type IntakeStoreOptions = {
  poolSize?: number;
  /** Most deliveries one INSERT carries. */
  maxBatchSize?: number;
  /** INSERT batches in flight at once. */
  maxInFlight?: number;
};

const COLUMNS_PER_ROW = 7;

/**
 * One statement per batch of deliveries. A new event is inserted already marked queued (its job is added right
 * after, and the mark taken back if that fails), which spares every request an UPDATE that rewrites the row and
 * its indexes. A redelivery only bumps deliveryCount and lastDeliveredAt (concurrent duplicates meet on the
 * primary key, never as two rows); `xmax = 0` holds only for a row this statement inserted. A batch never holds
 * one id twice (ON CONFLICT may touch a row once per statement) and lists its rows by id, so two batches in
 * flight lock shared ids in the same order and cannot deadlock.
 */
function saveDeliveriesSql(rows: number): string {
  const values: string[] = [];
  for (let row = 0; row < rows; row++) {
    const p = row * COLUMNS_PER_ROW;
    values.push(
      `($${p + 1}, $${p + 2}, $${p + 3}, ($${p + 4}::timestamptz AT TIME ZONE 'UTC'), $${p + 5}, $${p + 6}, $${p + 7}::jsonb, ` +
        `'webhook'::"EventSource", 'queued'::"EventStatus", (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC'), ` +
        `(now() AT TIME ZONE 'UTC'))`,
    );
  }
  return `
  INSERT INTO stripe_events
    (id, type, "apiVersion", "stripeCreated", "objectId", livemode, payload, source, status, "receivedAt",
     "lastDeliveredAt", "queuedAt")
  VALUES ${values.join(",\n    ")}
  ON CONFLICT (id) DO UPDATE
    SET "deliveryCount" = stripe_events."deliveryCount" + 1, "lastDeliveredAt" = (now() AT TIME ZONE 'UTC')
  RETURNING id, status::text AS status, attempts, "deliveryCount", (xmax = 0) AS inserted`;
}

/** Only a row still queued and never claimed (attempts 0) goes back: a worker that took it is never undone. */
const UNMARK_QUEUED_SQL = `
  UPDATE stripe_events SET status = 'received', "queuedAt" = NULL
  WHERE id = ANY($1::text[]) AND status = 'queued' AND attempts = 0`;

/**
 * The intake's store, on plain pg (Prisma's per-query overhead is several times these statements' cost; see
 * bench/intake.bench.ts), with group commit: deliveries arriving while a batch is being written are inserted
 * together by the next one, each caller answered when its own row is committed. A batch that fails is retried
 * one delivery at a time, so a delivery Postgres refuses fails alone.
 */
export function createIntakeStore(databaseUrl: string, options: IntakeStoreOptions = {}): IntakeStore {
  const pool = createPgPool(databaseUrl, { max: options.poolSize ?? 10 });
  const sqlBySize = new Map<number, string>();
  const saveBatch = createMicroBatch<WebhookDelivery, StoredDelivery>({
    maxBatchSize: options.maxBatchSize ?? 64,
    maxInFlight: options.maxInFlight ?? 2,
    keyOf: (delivery) => delivery.event.id,
    retryAlone: true,
    run: async (deliveries) => {
      const ordered = [...deliveries].sort((a, b) => (a.event.id < b.event.id ? -1 : 1));
      let sql = sqlBySize.get(ordered.length);
      if (sql === undefined) {
        sql = saveDeliveriesSql(ordered.length);
        sqlBySize.set(ordered.length, sql);
      }
      const params: unknown[] = [];
      for (const { event, body } of ordered) {
        // The body as signed, not a re-serialisation: Postgres parses it once into jsonb.
        params.push(
          event.id,
          event.type,
          event.apiVersion,
          event.created.toISOString(),
          event.objectId,
          event.livemode,
          body,
        );
      }
      const result = await pool.query<StoredDelivery>(sql, params);
      const byId = new Map(result.rows.map((row) => [row.id, row]));
      return deliveries.map(({ event }) => {
        const row = byId.get(event.id);
        if (row === undefined) throw new Error(`stripe event ${event.id} was not returned by its insert`);
        return row;
      });
    },
  });
  // Outages fail every request's enqueue at once; their marks go back in a few statements, not one each.
  const unmarkBatch = createMicroBatch<EventQueueState, void>({
    maxBatchSize: 512,
    maxInFlight: 1,
    run: async (events) => {
      await pool.query(UNMARK_QUEUED_SQL, [events.map((event) => event.id)]);
      return events.map(() => undefined);
    },
  });
  return {
    saveDelivery: saveBatch,
    markQueued: async (event) => {
      await pool.query(MARK_QUEUED_SQL, [event.id, event.status, event.attempts]);
    },
    unmarkQueued: unmarkBatch,
    close: () => pool.end(),
  };
}
