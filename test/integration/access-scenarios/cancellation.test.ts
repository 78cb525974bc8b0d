import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/config/logger.js";
import { processEntitlementJob } from "../../../src/entitlements/entitlement-jobs.js";
import { entitlementQueue } from "../../../src/entitlements/entitlement-queue.js";
import { createRedis } from "../../../src/queue/connection.js";
import { createWorker } from "../../../src/queue/queues.js";
import { QUEUES } from "../../../src/queue/registry.js";
import {
  ACCESS_API,
  aProSubscriber,
  at,
  atTime,
  byEvent,
  byJob,
  createScenarios,
  DAY,
  enforcementJobId,
  eventAt,
  nowSeconds,
  PRO_FEATURES,
  rowsFor,
  type Scenarios,
  SHAPES,
} from "./scenario-harness.js";

let scenarios: Scenarios;
beforeAll(async () => {
  scenarios = await createScenarios();
});
afterAll(async () => scenarios?.close());

/** Polls on the monotonic clock, which keeps running while a test has moved `Date`. */
async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 8000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || performance.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("cancel at period end, the deleted webhook never arrives", () => {
  it("a real entitlements worker revokes at the period end, and neither the API nor the late deleted webhook adds a row (both shapes)", async () => {
    // Two customers, one per API shape.
    const periodEnd = nowSeconds() + 5 * DAY;
    const subscribers = SHAPES.map((shape) => aProSubscriber(shape, periodEnd));
    const deliveries = subscribers.map(({ snapshot, event }) => ({
      created: event("customer.subscription.created", snapshot()),
      canceled: event("customer.subscription.updated", snapshot({ cancelAtPeriodEnd: true })),
    }));
    for (const { created, canceled } of deliveries) await scenarios.deliver(created, canceled);
    for (const { customer } of subscribers)
      expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
        has_access: true,
        reason: "cancel_scheduled",
      });

    const { ctx } = scenarios;
    // The clock (Date only) moves past the end: the delayed job is due, and the worker runs it by itself.
    await atTime(at(periodEnd + 1), async () => {
      const connection = createRedis(ctx.config.redisUrl);
      const worker = createWorker(
        { connection, prefix: ctx.config.queuePrefix, logger: createLogger("silent"), concurrency: 1 },
        QUEUES.entitlements,
        (job, log) => processEntitlementJob(ctx, job, log),
      );
      try {
        for (const { customer } of subscribers)
          await waitFor(
            () => ctx.db.accessLog.count({ where: { customerId: customer, action: "revoke" } }),
            (count) => count >= PRO_FEATURES.length,
          );
      } finally {
        await worker.close();
        connection.disconnect();
      }
      for (const { customer } of subscribers) {
        expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
          has_access: false,
          status: "revoked",
          reason: "subscription_canceled",
        });
        expect(await scenarios.check(customer, "api_calls", 1)).toMatchObject({ allowed: false });
      }
    });

    for (const [index, { customer, snapshot }] of subscribers.entries()) {
      const { created, canceled } = deliveries[index]!;
      // The mirror still said active: only the clock revoked.
      expect((await ctx.db.subscription.findFirstOrThrow({ where: { customerId: customer } })).status).toBe(
        "active",
      );
      // Stripe's deleted webhook, when it finally comes, finds nothing left to change.
      const deleted = eventAt(
        "customer.subscription.deleted",
        snapshot({ status: "canceled", cancelAtPeriodEnd: true, canceledAt: periodEnd, endedAt: periodEnd }),
        periodEnd,
      );
      await scenarios.deliver(deleted);
      await scenarios.expectLog(customer, [
        ...rowsFor(PRO_FEATURES, "grant", byEvent(created)),
        ...rowsFor(PRO_FEATURES, "change", byEvent(canceled)),
        ...rowsFor(PRO_FEATURES, "revoke", byJob(customer, at(periodEnd))),
      ]);
    }
  }, 20_000);

  it.each(SHAPES)(
    "%s: time moved past the end, the API revokes first and the delayed job adds no second row",
    async (shape) => {
      const periodEnd = nowSeconds() + 5 * DAY;
      const { customer, snapshot, event } = aProSubscriber(shape, periodEnd);
      const created = event("customer.subscription.created", snapshot());
      const canceled = event("customer.subscription.updated", snapshot({ cancelAtPeriodEnd: true }));
      await scenarios.deliver(created, canceled);
      expect(
        await entitlementQueue(scenarios.ctx).getJob(enforcementJobId(customer, at(periodEnd))),
      ).toBeDefined();

      await atTime(at(periodEnd + 60), async () => {
        expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
          has_access: false,
          reason: "subscription_canceled",
        });
        expect(await scenarios.check(customer, "api_calls", 1)).toMatchObject({
          allowed: false,
          reason: "subscription_canceled",
        });
        expect((await scenarios.runEnforcement(customer, at(periodEnd))).changes).toEqual([]);
        expect(await scenarios.entitlement(customer, "seats")).toMatchObject({ has_access: false });
      });
      await scenarios.expectLog(customer, [
        ...rowsFor(PRO_FEATURES, "grant", byEvent(created)),
        ...rowsFor(PRO_FEATURES, "change", byEvent(canceled)),
        ...rowsFor(PRO_FEATURES, "revoke", ACCESS_API),
      ]);
    },
  );

  it.each(SHAPES)(
    "%s: cancel_at (a set date) passes, the delayed job revokes and the API adds no second row",
    async (shape) => {
      const cancelAt = nowSeconds() + 2 * DAY;
      const { customer, snapshot, event } = aProSubscriber(shape, nowSeconds() + 20 * DAY);
      const created = event("customer.subscription.created", snapshot());
      const scheduled = event("customer.subscription.updated", snapshot({ cancelAt }));
      await scenarios.deliver(created, scheduled);

      await atTime(at(cancelAt + 1), async () => {
        expect((await scenarios.runEnforcement(customer, at(cancelAt))).changes).toEqual(
          PRO_FEATURES.map((feature) => `revoke ${feature}`),
        );
        expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
          has_access: false,
          reason: "subscription_canceled",
        });
      });
      await scenarios.expectLog(customer, [
        ...rowsFor(PRO_FEATURES, "grant", byEvent(created)),
        ...rowsFor(PRO_FEATURES, "change", byEvent(scheduled)),
        ...rowsFor(PRO_FEATURES, "revoke", byJob(customer, at(cancelAt))),
      ]);
    },
  );
});

describe.each(SHAPES)("changes of mind, %s API shape", (shape) => {
  it("cancel then un-cancel: access is never lost and the scheduled revocation no longer revokes", async () => {
    const periodEnd = nowSeconds() + 5 * DAY;
    const { customer, snapshot, event } = aProSubscriber(shape, periodEnd);
    const created = event("customer.subscription.created", snapshot());
    const canceled = event("customer.subscription.updated", snapshot({ cancelAtPeriodEnd: true }));
    const kept = event("customer.subscription.updated", snapshot({ cancelAtPeriodEnd: false }));
    await scenarios.deliver(created, canceled);
    expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
      has_access: true,
      reason: "cancel_scheduled",
    });
    await scenarios.deliver(kept);
    expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
      has_access: true,
      reason: "subscription_active",
    });

    // Past the old period end, before Stripe's renewal webhook: the job queued for it and the API keep access.
    await atTime(at(periodEnd + 60), async () => {
      expect((await scenarios.runEnforcement(customer, at(periodEnd))).changes).toEqual([]);
      expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
        has_access: true,
        reason: "subscription_active",
      });
      expect(await scenarios.check(customer, "api_calls", 10000)).toMatchObject({ allowed: true });
    });
    const log = await scenarios.expectLog(customer, [
      ...rowsFor(PRO_FEATURES, "grant", byEvent(created)),
      ...rowsFor(PRO_FEATURES, "change", byEvent(canceled)),
      ...rowsFor(PRO_FEATURES, "change", byEvent(kept)),
    ]);
    expect(log.at(-1)).toMatchObject({
      before: { status: "active", reason: "cancel_scheduled" },
      after: { status: "active", reason: "subscription_active" },
    });
  });

  it("pause_collection then resume: access kept throughout, the warning comes and goes", async () => {
    const { customer, snapshot, event } = aProSubscriber(shape, nowSeconds() + 20 * DAY);
    const created = event("customer.subscription.created", snapshot());
    const paused = event(
      "customer.subscription.updated",
      snapshot({ pauseCollection: { behavior: "void", resumes_at: nowSeconds() + 10 * DAY } }),
    );
    const resumed = event("customer.subscription.updated", snapshot({ pauseCollection: null }));
    await scenarios.deliver(created, paused);
    expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
      has_access: true,
      reason: "collection_paused",
    });
    await scenarios.deliver(resumed);
    expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
      has_access: true,
      reason: "subscription_active",
    });
    expect(await scenarios.check(customer, "api_calls", 10000)).toMatchObject({
      allowed: true,
      reason: "subscription_active",
    });
    await scenarios.expectLog(customer, [
      ...rowsFor(PRO_FEATURES, "grant", byEvent(created)),
      ...rowsFor(PRO_FEATURES, "change", byEvent(paused)),
      ...rowsFor(PRO_FEATURES, "change", byEvent(resumed)),
    ]);
  });

  it("a subscription paused by Stripe, then resumed: revoked, then granted again", async () => {
    const { customer, snapshot, event } = aProSubscriber(shape, nowSeconds() + 20 * DAY);
    const created = event("customer.subscription.created", snapshot({ status: "trialing" }));
    const paused = event("customer.subscription.paused", snapshot({ status: "paused" }));
    const resumed = event("customer.subscription.resumed", snapshot({ status: "active" }));
    await scenarios.deliver(created, paused, resumed);
    expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
      has_access: true,
      reason: "subscription_active",
    });
    await scenarios.expectLog(customer, [
      ...rowsFor(PRO_FEATURES, "grant", byEvent(created)),
      ...rowsFor(PRO_FEATURES, "revoke", byEvent(paused)),
      ...rowsFor(PRO_FEATURES, "grant", byEvent(resumed)),
    ]);
  });
});
