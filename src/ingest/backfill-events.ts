import type { AppContext } from "../app-context.js";
import type { Logger } from "../config/logger.js";
import { fetchEventsCreatedBetween, STRIPE_EVENT_RETENTION_DAYS } from "../stripe/event-fetchers.js";
import { type EventQueueTarget, queueStoredEvent } from "./event-queue.js";
import { saveBackfilledEvent } from "./store-event.js";

export type BackfillOptions = {
  since: Date;
  target: EventQueueTarget;
  now?: Date;
  /** Events younger than this may still be in flight as webhooks; listing them would call them missed. */
  settleMs?: number;
};

export type BackfillResult = {
  /** Where the listing started: `since`, or Stripe's retention horizon when `since` is older. */
  from: Date;
  until: Date;
  beyondRetention: boolean;
  listed: number;
  /** Never received as a webhook: stored with source backfill (the webhook_missed evidence). */
  stored: number;
  alreadyStored: number;
  enqueued: number;
  unreadable: number;
};

export const DEFAULT_SETTLE_MS = 5 * 60_000;

export type BackfillWindow = {
  from: Date;
  until: Date;
  beyondRetention: boolean;
  /** Why nothing can be listed (`since` in the future or within the settle time); null when the window is open. */
  emptyBecause: string | null;
};

/** From `since`, but never before Stripe's retention horizon, to `now` less the settle time. */
export function decideBackfillWindow(since: Date, now: Date, settleMs = DEFAULT_SETTLE_MS): BackfillWindow {
  const horizon = new Date(now.getTime() - STRIPE_EVENT_RETENTION_DAYS * 86_400_000);
  const beyondRetention = since < horizon;
  const from = beyondRetention ? horizon : since;
  const until = new Date(now.getTime() - settleMs);
  let emptyBecause: string | null = null;
  if (since > now) emptyBecause = `${since.toISOString()} is in the future`;
  else if (until <= from)
    emptyBecause =
      `${since.toISOString()} is less than ${settleMs / 60_000} minutes ago; ` +
      "events that recent may still arrive as webhooks, so none are listed";
  return { from, until, beyondRetention, emptyBecause };
}

/** Lists Stripe's events since a time and stores and enqueues those that never arrived by webhook. */
export async function backfillStripeEvents(
  ctx: AppContext,
  options: BackfillOptions,
  log: Logger,
): Promise<BackfillResult> {
  const { from, until, beyondRetention } = decideBackfillWindow(
    options.since,
    options.now ?? new Date(),
    options.settleMs,
  );
  const result: BackfillResult = {
    from,
    until,
    beyondRetention,
    listed: 0,
    stored: 0,
    alreadyStored: 0,
    enqueued: 0,
    unreadable: 0,
  };
  if (until <= from) return result;
  for await (const parsed of fetchEventsCreatedBetween(ctx.stripe, from, until)) {
    result.listed += 1;
    if (!parsed.ok) {
      result.unreadable += 1;
      log.warn({ reason: parsed.reason }, "listed stripe event not readable; skipped");
      continue;
    }
    const event = parsed.event;
    if (!(await saveBackfilledEvent(ctx.db, event))) {
      result.alreadyStored += 1;
      continue;
    }
    result.stored += 1;
    log.warn(
      { event_id: event.id, type: event.type, created: event.created },
      "stripe event never delivered; backfilled",
    );
    const queued = await queueStoredEvent(
      ctx.db,
      options.target,
      { id: event.id, status: "received", attempts: 0 },
      log,
    );
    if (queued) result.enqueued += 1;
  }
  log.info({ ...result }, "stripe events backfilled");
  return result;
}
