import type { AppContext } from "../app-context.js";
import type { Logger } from "../config/logger.js";
import { createQueue, type Job } from "../queue/queues.js";
import { JOBS, QUEUES } from "../queue/registry.js";
import { type MeterReport, reportUnreportedUsage } from "./meter-reporter.js";

export const REPORT_USAGE_EVERY_MS = 60_000;
const PAGE_SIZE = 500;
/** One run catches up at most this many pages; the next scheduled run takes the rest. */
const MAX_PAGES_PER_RUN = 20;

/**
 * Reports usage to Stripe every minute from the `usage-reports` queue. A job scheduler, so many workers
 * still run it once per period; the next run is the retry (attempts 1).
 */
export async function scheduleUsageReporting(ctx: AppContext): Promise<void> {
  const queue = createQueue({ connection: ctx.redis, prefix: ctx.config.queuePrefix }, QUEUES.usageReports);
  try {
    await queue.upsertJobScheduler(
      JOBS.reportUsage,
      { every: REPORT_USAGE_EVERY_MS },
      { name: JOBS.reportUsage, opts: { attempts: 1 } },
    );
  } finally {
    await queue.close();
  }
}

/** Sends unreported usage page by page until none is left, Stripe is unavailable, or the run's budget is spent. */
export async function processReportUsageJob(ctx: AppContext, job: Job, log: Logger): Promise<MeterReport> {
  const limit = typeof job.data?.limit === "number" && job.data.limit > 0 ? job.data.limit : PAGE_SIZE;
  const total: MeterReport = { considered: 0, sent: 0, alreadySent: 0, rejected: 0, unavailable: null };
  for (let page = 0; page < MAX_PAGES_PER_RUN; page++) {
    const report = await reportUnreportedUsage({ ...ctx, logger: log }, { limit });
    total.considered += report.considered;
    total.sent += report.sent;
    total.alreadySent += report.alreadySent;
    total.rejected += report.rejected;
    total.unavailable = report.unavailable;
    if (report.unavailable !== null || report.considered < limit) break;
  }
  // Retrying now would hit the same outage; failing the run makes it visible, the next run picks it up.
  if (total.unavailable !== null) throw new Error(`usage reporting stopped: ${total.unavailable}`);
  return total;
}
