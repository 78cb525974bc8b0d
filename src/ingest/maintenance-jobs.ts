import type { AppContext } from "../app-context.js";
import type { Logger } from "../config/logger.js";
import { DomainError } from "../errors.js";
import type { Job } from "../queue/queues.js";
import { JOBS } from "../queue/registry.js";
import { backfillStripeEvents } from "./backfill-events.js";
import { sweepOutbox } from "./sweep-outbox.js";

const SWEEP_EVERY_MS = 60_000;
const BACKFILL_EVERY_MS = 60 * 60_000;
const BACKFILL_LOOKBACK_MS = 2 * 60 * 60_000;

/**
 * Repeating jobs of the intake on the maintenance queue: the outbox sweep every minute and a backfill of the
 * last two hours every hour. Job schedulers, so many workers still run each once per period.
 */
export async function scheduleIngestMaintenance(ctx: AppContext): Promise<void> {
  await ctx.queues.maintenance.upsertJobScheduler(
    JOBS.sweepOutbox,
    { every: SWEEP_EVERY_MS },
    { name: JOBS.sweepOutbox, opts: { attempts: 1 } },
  );
  await ctx.queues.maintenance.upsertJobScheduler(
    JOBS.backfillRecentEvents,
    { every: BACKFILL_EVERY_MS },
    { name: JOBS.backfillRecentEvents, opts: { attempts: 1 } },
  );
}

/** Runs one intake maintenance job (the next scheduled run is the retry, hence attempts 1 above). */
export async function processIngestMaintenanceJob(ctx: AppContext, job: Job, log: Logger): Promise<unknown> {
  const target = { queue: ctx.queues.stripeEvents };
  switch (job.name) {
    case JOBS.sweepOutbox:
      return sweepOutbox(ctx.db, target, log);
    case JOBS.backfillRecentEvents: {
      const since = new Date(Date.now() - BACKFILL_LOOKBACK_MS);
      const result = await backfillStripeEvents(ctx, { since, target }, log);
      return { ...result, from: result.from.toISOString(), until: result.until.toISOString() };
    }
    default:
      throw new DomainError("unknown_job", `maintenance job ${job.name} has no handler`);
  }
}
