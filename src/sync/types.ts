/** A stored Stripe event handed from ingest to sync. `payload` is the whole event envelope as received. */
export type StoredStripeEvent = {
  id: string;
  type: string;
  apiVersion: string | null;
  created: Date;
  payload: unknown;
};

/** What applying one event did; logged once per event by the processor. */
export type SyncOutcome =
  | { status: "applied"; detail?: string }
  | { status: "skipped"; reason: string } // e.g. "stale": an older snapshot than the one held
  | { status: "ignored"; reason: string } // an event type leakguard does not act on
  | { status: "unsupported"; reason: string }; // a payload whose shape cannot be read
