import type { AppContext } from "../app-context.js";
import { mapConcurrently } from "../map-concurrently.js";
import { MeterEventUnavailableError, sendMeterEvent } from "../stripe/meter-events.js";
import { ledgerCatalogOf } from "./catalog-view.js";

export type MeterReport = {
  /** Unreported rows picked up in this run. */
  considered: number;
  sent: number;
  /** Stripe already held the identifier: marked reported without a second event. */
  alreadySent: number;
  /** Refused by Stripe for good; the reason is stored in `reportError` and the row is not retried. */
  rejected: number;
  /** Set when Stripe could not be reached: the rest stays unreported for the next run. */
  unavailable: string | null;
};

export type MeterReportOptions = { limit?: number; concurrency?: number };

const DEFAULT_LIMIT = 500;
const DEFAULT_CONCURRENCY = 4;

/**
 * Sends unreported usage rows of metered features to Stripe as meter events, oldest first, and marks each
 * one reported (or refused). Safe to run from several workers at once: the identifier is the usage_id.
 */
export async function reportUnreportedUsage(
  ctx: AppContext,
  options: MeterReportOptions = {},
): Promise<MeterReport> {
  const report: MeterReport = { considered: 0, sent: 0, alreadySent: 0, rejected: 0, unavailable: null };
  const catalog = ledgerCatalogOf(ctx.catalog);
  const metered = catalog.meteredFeatures();
  if (metered.length === 0) return report;

  const rows = await ctx.db.ledgerEntry.findMany({
    where: { kind: "usage", reportedAt: null, reportError: null, feature: { in: metered } },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    take: options.limit ?? DEFAULT_LIMIT,
    select: { id: true, usageId: true, customerId: true, feature: true, quantity: true, occurredAt: true },
  });
  report.considered = rows.length;

  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  await mapConcurrently(rows, concurrency, async (row) => {
    // Once Stripe is unreachable the rest waits for the next run.
    if (report.unavailable !== null) return;
    try {
      const outcome = await sendMeterEvent(ctx.stripe, {
        eventName: catalog.meterEventName(row.feature)!,
        stripeCustomerId: row.customerId,
        value: row.quantity.toFixed(),
        usageId: row.usageId,
        occurredAt: row.occurredAt,
      });
      if (outcome.status === "rejected") {
        await ctx.db.ledgerEntry.updateMany({
          where: { id: row.id, reportedAt: null },
          data: { reportError: outcome.reason },
        });
        report.rejected += 1;
        ctx.logger.warn(
          { usage_id: row.usageId, customer: row.customerId, reason: outcome.reason },
          "Stripe refused a meter event",
        );
      } else {
        await ctx.db.ledgerEntry.updateMany({
          where: { id: row.id, reportedAt: null },
          data: { reportedAt: new Date() },
        });
        if (outcome.status === "sent") report.sent += 1;
        else report.alreadySent += 1;
      }
    } catch (error) {
      if (!(error instanceof MeterEventUnavailableError)) throw error;
      report.unavailable ??= error.message;
    }
  });

  ctx.logger.info(
    {
      considered: report.considered,
      sent: report.sent,
      already_sent: report.alreadySent,
      rejected: report.rejected,
      unavailable: report.unavailable,
    },
    "usage reported to Stripe",
  );
  return report;
}
