import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadWebhookStats } from "../../../src/reconcile/load-webhook-stats.js";
import { renderReport } from "../../../src/report/render-report.js";
import { buildReport } from "../../../src/report/report.js";
import { createTestDb, type TestDb } from "../../support/db.js";

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
  const inPeriod = new Date("2026-11-10T00:00:00Z");
  const event = (id: string, extra: Record<string, unknown>) => ({
    id,
    type: "customer.updated",
    stripeCreated: inPeriod,
    payload: {},
    ...extra,
  });
  await t.db.stripeEvent.createMany({
    data: [
      event("evt_dup", { deliveryCount: 3, status: "processed" }),
      event("evt_once", { deliveryCount: 1, status: "processed" }),
      event("evt_missed", { deliveryCount: 0, source: "backfill", status: "processed" }),
      event("evt_missed_then_late", { deliveryCount: 1, source: "backfill", status: "processed" }),
      event("evt_ignored", { deliveryCount: 2, status: "ignored" }),
      event("evt_failed", { deliveryCount: 1, status: "failed" }),
      event("evt_waiting", { deliveryCount: 1, status: "queued" }),
      event("evt_other_period", {
        deliveryCount: 5,
        status: "processed",
        stripeCreated: new Date("2026-10-01T00:00:00Z"),
      }),
    ],
  });
});
afterAll(async () => t.drop());

describe("webhook delivery in the report", () => {
  it("counts the period's events, their deliveries and duplicates, the backfilled ones and their outcomes", async () => {
    const stats = await loadWebhookStats(t.db, {
      from: new Date("2026-11-01T00:00:00Z"),
      to: new Date("2026-12-01T00:00:00Z"),
    });
    expect(stats).toEqual({
      events: 7,
      deliveries: 9,
      // evt_dup twice more, evt_ignored once more, evt_missed_then_late's late webhook once.
      duplicate_deliveries: 4,
      recovered_by_backfill: 2,
      processed: 4,
      ignored: 1,
      failed: 1,
      pending: 1,
    });

    const report = buildReport({
      runId: "run_1",
      periodFrom: new Date("2026-11-01T00:00:00Z"),
      periodTo: new Date("2026-12-01T00:00:00Z"),
      generatedAt: new Date("2026-12-01T03:00:00Z"),
      findings: [],
      defaultCurrency: "usd",
      webhooks: stats,
    });
    expect(report.webhooks).toEqual(stats);
    const markdown = renderReport(report, "md");
    expect(markdown).toContain("## Stripe events of the period");
    expect(markdown).toContain("| 7 | 9 | 4 | 2 | 4 | 1 | 1 | 1 |");
  });
});
