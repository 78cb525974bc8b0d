import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { processReportUsageJob, scheduleUsageReporting } from "../../../src/ledger/report-usage-job.js";
import { createRedis } from "../../../src/queue/connection.js";
import { createQueue, createWorker } from "../../../src/queue/queues.js";
import { JOBS, QUEUES } from "../../../src/queue/registry.js";
import { createTestApp, type TestApp } from "../../support/app.js";

let t: TestApp;

function acceptMeterEvents(times: number) {
  const identifiers: string[] = [];
  nock("https://api.stripe.com")
    .post("/v1/billing/meter_events")
    .times(times)
    .reply((_uri, body) => {
      const fields = new URLSearchParams(String(body));
      identifiers.push(fields.get("identifier")!);
      return [200, { object: "billing.meter_event", identifier: fields.get("identifier") }];
    });
  return identifiers;
}

async function seed(count: number) {
  const occurredAt = new Date(Date.now() - 60_000);
  for (let index = 0; index < count; index++) {
    await t.db.ledgerEntry.create({
      data: {
        usageId: `job_${index}`,
        customerId: "cus_job",
        feature: "tokens",
        quantity: String(index + 1),
        occurredAt,
        fingerprint: "f".repeat(64),
      },
    });
  }
}

function usageQueue() {
  return createQueue({ connection: t.ctx.redis, prefix: t.ctx.config.queuePrefix }, QUEUES.usageReports);
}

beforeAll(async () => {
  t = await createTestApp();
  nock.disableNetConnect();
});

beforeEach(async () => {
  await t.db.ledgerEntry.deleteMany();
});

afterEach(() => {
  nock.cleanAll();
});

afterAll(async () => {
  nock.enableNetConnect();
  await t?.close();
});

describe("report-usage job", () => {
  it("is scheduled once a minute on the usage-reports queue, however often it is scheduled", async () => {
    await scheduleUsageReporting(t.ctx);
    await scheduleUsageReporting(t.ctx);
    const queue = usageQueue();
    const schedulers = await queue.getJobSchedulers();
    await queue.close();
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]).toMatchObject({ key: JOBS.reportUsage, name: JOBS.reportUsage, every: 60_000 });
  });

  it("a worker runs it and it pages through every unreported row", async () => {
    await seed(5);
    const identifiers = acceptMeterEvents(5);
    const connection = createRedis(t.ctx.config.redisUrl);
    const worker = createWorker(
      { connection, prefix: t.ctx.config.queuePrefix, logger: t.ctx.logger, concurrency: 1 },
      QUEUES.usageReports,
      (job, log) => processReportUsageJob(t.ctx, job, log),
    );
    const completed = new Promise<unknown>((resolve, reject) => {
      worker.on("completed", (_job, result) => resolve(result));
      worker.on("failed", (_job, error) => reject(error));
    });
    const queue = usageQueue();
    await queue.add(JOBS.reportUsage, { limit: 2 });

    expect(await completed).toEqual({
      considered: 5,
      sent: 5,
      alreadySent: 0,
      rejected: 0,
      unavailable: null,
    });
    await worker.close();
    await queue.close();
    connection.disconnect();
    expect(identifiers.sort()).toEqual(["job_0", "job_1", "job_2", "job_3", "job_4"]);
    expect(await t.db.ledgerEntry.count({ where: { reportedAt: null } })).toBe(0);
  });

  it("fails the run when Stripe is unavailable and leaves the rows for the next one", async () => {
    await seed(2);
    nock("https://api.stripe.com")
      .post("/v1/billing/meter_events")
      .times(2)
      .reply(503, { error: { type: "api_error", message: "down" } }, { "Stripe-Should-Retry": "false" });
    const queue = usageQueue();
    const job = await queue.add(JOBS.reportUsage, {});
    await queue.close();

    await expect(processReportUsageJob(t.ctx, job, t.ctx.logger)).rejects.toThrow(
      /usage reporting stopped: .*503/,
    );
    expect(await t.db.ledgerEntry.count({ where: { reportedAt: null, reportError: null } })).toBe(2);
  });
});
