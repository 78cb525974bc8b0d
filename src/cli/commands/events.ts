import type { Command } from "commander";
import type { AppContext } from "../../app-context.js";
import { backfillStripeEvents, decideBackfillWindow } from "../../ingest/backfill-events.js";
import { backfillSubscriptionObjects } from "../../ingest/backfill-objects.js";
import { replayStripeEvent } from "../../ingest/replay-event.js";
import { STRIPE_EVENT_RETENTION_DAYS } from "../../stripe/event-fetchers.js";
import { fail, runOneShot } from "../runtime.js";
import { parseSince } from "../time-options.js";

export function registerEventsCommands(program: Command): void {
  const events = program
    .command("events")
    .description("stored Stripe events: replay one, backfill missed ones (and missed subscriptions)");

  events
    .command("replay")
    .argument("<id>", "Stripe event id (evt_...)")
    .option("--force", "apply again even if already processed")
    .description("re-enqueue a stored Stripe event for processing")
    .action(async (id: string, options: { force?: boolean }) => {
      await runOneShot(async (ctx) => {
        const target = { queue: ctx.queues.stripeEvents };
        const result = await replayStripeEvent(ctx.db, target, id, ctx.logger, {
          force: options.force ?? false,
        });
        process.stdout.write(
          `replayed ${result.eventId} (was ${result.previousStatus}); job ${result.jobId}\n`,
        );
      });
    });

  events
    .command("backfill")
    .option("--since <when>", "ISO date or date-time, or a duration back from now (90m, 2h, 3d)")
    .option(
      "--objects",
      "also list every subscription in Stripe (status=all) and save it to the mirror, recomputing access of customers whose subscriptions changed",
    )
    .description(
      "list Stripe's events since a time and store and enqueue the ones never received (--since); " +
        "and/or repair the subscription mirror from Stripe's current objects (--objects), beyond the 30-day event history",
    )
    .action(async (options: { since?: string; objects?: boolean }) => {
      if (options.since === undefined && !options.objects) fail("give --since <when>, --objects, or both");
      // One clock for reading --since and for the window, so "30d" is exactly Stripe's horizon.
      const now = new Date();
      const since = options.since === undefined ? null : parseSince(options.since, now);
      if (options.since !== undefined && since === null)
        fail(`--since: "${options.since}" is neither an ISO date nor a duration like 2h or 3d`);
      const emptyBecause = since === null ? null : decideBackfillWindow(since, now).emptyBecause;
      if (emptyBecause !== null) fail(`--since ${options.since}: ${emptyBecause}`);
      await runOneShot(async (ctx) => {
        if (since !== null) await backfillEvents(ctx, since, now);
        if (options.objects) {
          const result = await backfillSubscriptionObjects(ctx, ctx.logger);
          process.stdout.write(
            `listed ${result.listed} subscriptions as of ${result.fetchedAt.toISOString()}: ` +
              `${result.created} never mirrored, ${result.updated} out of date, ${result.unchanged} unchanged, ` +
              `${result.newerHeld} newer in the mirror` +
              (result.unreadable > 0 ? `, ${result.unreadable} unreadable` : "") +
              `; access recomputed for ${result.customers} customer(s), ${result.accessChanges} change(s)\n`,
          );
        }
      });
    });
}

async function backfillEvents(ctx: AppContext, since: Date, now: Date): Promise<void> {
  const result = await backfillStripeEvents(
    ctx,
    { since, now, target: { queue: ctx.queues.stripeEvents } },
    ctx.logger,
  );
  if (result.beyondRetention) {
    process.stdout.write(
      `note: --since ${since.toISOString()} is beyond Stripe's ${STRIPE_EVENT_RETENTION_DAYS}-day event history; ` +
        `events before ${result.from.toISOString()} cannot be listed\n`,
    );
  }
  process.stdout.write(
    `listed ${result.listed} events created ${result.from.toISOString()} to ${result.until.toISOString()}: ` +
      `${result.stored} never received (stored as backfill, ${result.enqueued} enqueued), ` +
      `${result.alreadyStored} already stored` +
      (result.unreadable > 0 ? `, ${result.unreadable} unreadable` : "") +
      "\n",
  );
}
