import type { Db } from "../db/client.js";
import type { WebhookStats } from "../report/report.js";

/**
 * How Stripe's events of the period arrived and what became of them: duplicates are kept as data (the delivery
 * count), so the report shows how many arrived and that each event was applied at most once.
 */
export async function loadWebhookStats(db: Db, period: { from: Date; to: Date }): Promise<WebhookStats> {
  const groups = await db.stripeEvent.groupBy({
    by: ["source", "status"],
    where: { stripeCreated: { gte: period.from, lt: period.to } },
    _count: { _all: true },
    _sum: { deliveryCount: true },
  });
  const stats: WebhookStats = {
    events: 0,
    deliveries: 0,
    duplicate_deliveries: 0,
    recovered_by_backfill: 0,
    processed: 0,
    ignored: 0,
    failed: 0,
    pending: 0,
  };
  for (const group of groups) {
    const count = group._count._all;
    const deliveries = group._sum.deliveryCount ?? 0;
    stats.events += count;
    stats.deliveries += deliveries;
    // A backfilled event was never delivered (count 0); a late webhook for it counts as its first delivery.
    stats.duplicate_deliveries += Math.max(0, deliveries - (group.source === "backfill" ? 0 : count));
    if (group.source === "backfill") stats.recovered_by_backfill += count;
    if (group.status === "processed") stats.processed += count;
    else if (group.status === "ignored" || group.status === "unsupported") stats.ignored += count;
    else if (group.status === "failed") stats.failed += count;
    else stats.pending += count;
  }
  return stats;
}
