import type { StripeClient } from "./client.js";
import { unixSeconds, wireJson } from "./fetchers.js";
import { type EnvelopeParseResult, parseEventEnvelope } from "./normalize/event-envelope.js";

/** How far back Stripe's events list reaches. */
export const STRIPE_EVENT_RETENTION_DAYS = 30;

/**
 * Every event Stripe lists as created in [from, until], newest first, all pages, as our own envelope type
 * (an event whose shape we cannot read comes back as a reason, so one odd event never stops a backfill).
 */
export async function* fetchEventsCreatedBetween(
  stripe: StripeClient,
  from: Date,
  until: Date,
): AsyncGenerator<EnvelopeParseResult> {
  const events = stripe.events.list({
    created: { gte: unixSeconds(from), lte: unixSeconds(until) },
    limit: 100,
  });
  for await (const event of events) yield parseEventEnvelope(wireJson(event));
}
