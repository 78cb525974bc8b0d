import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/config/logger.js";
import type { Db } from "../../../src/db/client.js";
import { applyEntitlementsForCustomer } from "../../../src/entitlements/apply-entitlements.js";
import { isEntitlementJob, processEntitlementJob } from "../../../src/entitlements/entitlement-jobs.js";
import { ENTITLEMENT_JOBS, entitlementQueue } from "../../../src/entitlements/entitlement-queue.js";
import { isDomainError } from "../../../src/errors.js";
import { createRedis } from "../../../src/queue/connection.js";
import { createWorker, type Job } from "../../../src/queue/queues.js";
import { QUEUES } from "../../../src/queue/registry.js";
import type { TestApp } from "../../support/app.js";
import { createEntitlementTestApp, DAY_MS, fromNow, insertCustomer, insertSubscription } from "./support.js";

let testApp: TestApp;
let db: Db;

beforeAll(async () => {
  testApp = await createEntitlementTestApp();
  db = testApp.db;
});
afterAll(async () => testApp?.close());

const jobIdOf = (customerId: string, at: Date) => `${ENTITLEMENT_JOBS.enforce}_${customerId}_${at.getTime()}`;

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("scheduled revocation", () => {
  it("revokes at cancel_at through a delayed job, with no deleted webhook", async () => {
    const customerId = await insertCustomer(db);
    const cancelAt = fromNow(1000);
    await insertSubscription(db, customerId, { cancelAt });
    await applyEntitlementsForCustomer(testApp.ctx, customerId, { cause: "event:evt_cancel_requested" });
    await applyEntitlementsForCustomer(testApp.ctx, customerId, {
      cause: "event:evt_cancel_requested_again",
    });

    const queue = entitlementQueue(testApp.ctx);
    const job = await queue.getJob(jobIdOf(customerId, cancelAt));
    expect(job?.name).toBe(ENTITLEMENT_JOBS.enforce);
    expect(job?.data).toEqual({ stripeCustomerId: customerId, at: cancelAt.toISOString() });
    expect(await queue.getDelayedCount()).toBe(1);

    const connection = createRedis(testApp.ctx.config.redisUrl);
    const worker = createWorker(
      { connection, prefix: testApp.ctx.config.queuePrefix, logger: createLogger("silent"), concurrency: 1 },
      QUEUES.entitlements,
      (job, log) => processEntitlementJob(testApp.ctx, job, log),
    );
    try {
      const sso = await waitFor(
        () =>
          db.entitlement.findUniqueOrThrow({ where: { customerId_feature: { customerId, feature: "sso" } } }),
        (row) => row.status === "revoked",
      );
      expect(sso).toMatchObject({ status: "revoked", reason: "subscription_canceled" });
    } finally {
      await worker.close();
      connection.disconnect();
    }
    const revoke = await db.accessLog.findFirstOrThrow({
      where: { customerId, feature: "sso", action: "revoke" },
    });
    expect(revoke.cause).toBe(`job:${ENTITLEMENT_JOBS.enforce}:${jobIdOf(customerId, cancelAt)}`);
    expect((await db.subscription.findFirstOrThrow({ where: { customerId } })).status).toBe("active");
  }, 15_000);

  it("schedules the end of a past_due grace", async () => {
    const customerId = await insertCustomer(db);
    const periodStart = fromNow(-3 * DAY_MS);
    await insertSubscription(db, customerId, { status: "past_due", currentPeriodStart: periodStart });
    const result = await applyEntitlementsForCustomer(testApp.ctx, customerId, {
      cause: "event:evt_past_due",
    });
    const graceUntil = new Date(periodStart.getTime() + 7 * DAY_MS);
    expect(result.decision.nextChangeAt).toEqual(graceUntil);
    const job = await entitlementQueue(testApp.ctx).getJob(jobIdOf(customerId, graceUntil));
    expect(job?.opts.delay).toBeGreaterThan(4 * DAY_MS - 60_000);
  });

  it("refuses a job it does not know, permanently", async () => {
    expect(isEntitlementJob(ENTITLEMENT_JOBS.enforce)).toBe(true);
    expect(isEntitlementJob("sweep-outbox")).toBe(false);
    const job = { name: "something-else", id: "1", data: {} } as unknown as Job;
    const outcome = await processEntitlementJob(testApp.ctx, job, createLogger("silent")).catch(
      (error) => error,
    );
    expect(isDomainError(outcome) && outcome.code).toBe("unknown_job");
    const bad = { name: ENTITLEMENT_JOBS.enforce, id: "2", data: { stripeCustomerId: "" } } as unknown as Job;
    const invalid = await processEntitlementJob(testApp.ctx, bad, createLogger("silent")).catch(
      (error) => error,
    );
    expect(isDomainError(invalid) && invalid.code).toBe("invalid_job");
  });
});
