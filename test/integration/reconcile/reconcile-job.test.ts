import nock from "nock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedis } from "../../../src/queue/connection.js";
import { createWorker, enqueue } from "../../../src/queue/queues.js";
import { JOBS, QUEUES } from "../../../src/queue/registry.js";
import {
  enqueueReconciliation,
  previousUtcDay,
  processReconcileJob,
  scheduleNightlyReconcile,
  waitForReconciliation,
} from "../../../src/reconcile/reconcile-job.js";
import { createTestApp, type TestApp } from "../../support/app.js";

const STRIPE = "https://api.stripe.com";
const emptyList = (url: string) => ({ object: "list", data: [], has_more: false, url });

let t: TestApp;
let worker: ReturnType<typeof createWorker>;
let workerRedis: ReturnType<typeof createRedis>;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  // An empty Stripe account: every run completes with no finding.
  nock(STRIPE).persist().get("/v1/billing/meters").query(true).reply(200, emptyList("/v1/billing/meters"));
  nock(STRIPE).persist().get("/v1/invoices").query(true).reply(200, emptyList("/v1/invoices"));
  // Every second, so the scheduled path runs within the test.
  t = await createTestApp({ env: { LEAKGUARD_RECONCILE_CRON: "* * * * * *" } });
  workerRedis = createRedis(t.ctx.config.redisUrl);
  worker = createWorker(
    { connection: workerRedis, prefix: t.ctx.config.queuePrefix, logger: t.ctx.logger, concurrency: 1 },
    QUEUES.reconcile,
    (job, log) => processReconcileJob(t.ctx, job, log),
  );
});

afterAll(async () => {
  await worker.close();
  workerRedis.disconnect();
  nock.cleanAll();
  nock.enableNetConnect();
  await t.close();
});

describe("reconcile jobs through a BullMQ worker", () => {
  it("a queued period is reconciled by the worker and waited for", async () => {
    const from = new Date("2026-11-01T00:00:00Z");
    const to = new Date("2026-11-02T00:00:00Z");
    const jobId = await enqueueReconciliation(t.ctx, { from, to, trigger: "demo" });
    const result = await waitForReconciliation(t.ctx, jobId, { timeoutMs: 15_000, pollMs: 50 });
    expect(result).toMatchObject({
      findings: 0,
      period: { from: "2026-11-01T00:00:00Z", to: "2026-11-02T00:00:00Z" },
    });
    const run = await t.db.reconciliationRun.findUniqueOrThrow({ where: { id: result.runId } });
    expect(run).toMatchObject({ status: "completed", trigger: "demo", periodFrom: from, periodTo: to });
  });

  it("a job with unreadable data fails once, permanently, with the reason", async () => {
    const jobId = await enqueue(t.ctx.queues.reconcile, JOBS.reconcilePeriod, {
      from: "last tuesday",
      to: "now",
    });
    await expect(waitForReconciliation(t.ctx, jobId!, { timeoutMs: 15_000, pollMs: 50 })).rejects.toThrow(
      /invalid_job/,
    );
    const job = await t.ctx.queues.reconcile.getJob(jobId!);
    expect(job?.attemptsMade).toBe(1);
  });

  it("an empty period is refused before anything is queued", async () => {
    const day = new Date("2026-11-01T00:00:00Z");
    await expect(enqueueReconciliation(t.ctx, { from: day, to: day, trigger: "api" })).rejects.toMatchObject({
      code: "invalid_period",
    });
  });

  it("the nightly scheduler is one schedule however many workers upsert it, and reconciles the previous UTC day", async () => {
    await Promise.all([
      scheduleNightlyReconcile(t.ctx),
      scheduleNightlyReconcile(t.ctx),
      scheduleNightlyReconcile(t.ctx),
    ]);
    const schedulers = await t.ctx.queues.reconcile.getJobSchedulers();
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]).toMatchObject({ name: JOBS.nightlyReconcile, pattern: "* * * * * *", tz: "UTC" });

    const deadline = Date.now() + 15_000;
    let scheduled = null;
    while (scheduled === null && Date.now() < deadline) {
      scheduled = await t.db.reconciliationRun.findFirst({
        where: { trigger: "schedule", status: "completed" },
      });
      if (scheduled === null) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await t.ctx.queues.reconcile.removeJobScheduler("nightly-reconcile");
    expect(scheduled).not.toBeNull();
    // The day before the one the scheduler fired in (the run starts a moment after the fire time).
    const period = { from: scheduled!.periodFrom, to: scheduled!.periodTo };
    const started = scheduled!.startedAt.getTime();
    expect([previousUtcDay(new Date(started)), previousUtcDay(new Date(started - 5_000))]).toContainEqual(
      period,
    );
  });
});

describe("previousUtcDay", () => {
  it.each([
    ["2026-12-02T03:00:00Z", "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z"],
    ["2026-12-02T00:00:00Z", "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z"],
    ["2027-01-01T23:59:59.999Z", "2026-12-31T00:00:00Z", "2027-01-01T00:00:00Z"],
    ["2028-03-01T05:00:00+02:00", "2028-02-29T00:00:00Z", "2028-03-01T00:00:00Z"],
  ])("at %s reconciles [%s, %s)", (at, from, to) => {
    expect(previousUtcDay(new Date(at))).toEqual({ from: new Date(from), to: new Date(to) });
  });
});
