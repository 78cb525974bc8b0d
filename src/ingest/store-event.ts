import type { Db } from "../db/client.js";
import type { IncomingStripeEvent } from "../stripe/normalize/event-envelope.js";
import { jsonbStorableText } from "./jsonb-text.js";

/**
 * Stores an event found in Stripe's events list that never arrived as a webhook (deliveryCount 0, source
 * backfill: the evidence of a missed delivery), with U+FFFD for characters jsonb cannot hold (jsonb-text.ts).
 * Returns false when it is already stored.
 */
export async function saveBackfilledEvent(db: Db, event: IncomingStripeEvent): Promise<boolean> {
  const payload = jsonbStorableText(JSON.stringify(event.payload)).text;
  const inserted = await db.$executeRaw`
    INSERT INTO stripe_events
      (id, type, "apiVersion", "stripeCreated", "objectId", livemode, payload, source, "deliveryCount",
       "receivedAt", "lastDeliveredAt")
    VALUES (${event.id}, ${event.type}, ${event.apiVersion}, (${event.created.toISOString()}::timestamptz AT TIME ZONE 'UTC'),
            ${event.objectId}, ${event.livemode}, ${payload}::jsonb, 'backfill', 0,
            (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC'))
    ON CONFLICT (id) DO NOTHING`;
  return inserted === 1;
}
