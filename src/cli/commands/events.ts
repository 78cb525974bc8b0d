import type { Command } from "commander";
import { backfillStripeEvents } from "../../ingest/backfill-events.js";
import { replayStripeEvent } from "../../ingest/replay-event.js";
import { parseSince } from "../../ingest/since.js";
import { STRIPE_EVENT_RETENTION_DAYS } from "../../stripe/event-fetchers.js";
import { fail, runOneShot } from "../runtime.js";

export function registerEventsCommands(program: Command): void {
  const events = program
    .command("events")
    .description("stored Stripe events: replay one, backfill missed ones");

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
    .requiredOption("--since <when>", "ISO date or date-time, or a duration back from now (90m, 2h, 3d)")
    .description("list Stripe's events since a time and store and enqueue the ones never received")
    .action(async (options: { since: string }) => {
      const since = parseSince(options.since, new Date());
      if (since === null)
        fail(`--since: "${options.since}" is neither an ISO date nor a duration like 2h or 3d`);
      await runOneShot(async (ctx) => {
        const result = await backfillStripeEvents(
          ctx,
          { since, target: { queue: ctx.queues.stripeEvents } },
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
      });
    });
}
