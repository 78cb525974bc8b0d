import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processStripeEventJob } from "../../../src/ingest/process-event-job.js";
import { createRedis } from "../../../src/queue/connection.js";
import { createWorker } from "../../../src/queue/queues.js";
import { QUEUES } from "../../../src/queue/registry.js";
import { type ComparableEntry, comparableLog, type Lifecycle, lifecycle, newTag } from "./lifecycle.js";
import {
  byEvent,
  createScenarios,
  DAY,
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

describe.each(SHAPES)("duplicate delivery, %s API shape", (shape) => {
  const now = nowSeconds();
  let reference: Promise<{ life: Lifecycle; log: ComparableEntry[] }> | undefined;
  /** The whole life delivered once, in order and once each; the tests below compare their logs with its log. */
  const referenceLife = () => {
    reference ??= (async () => {
      const life = lifecycle(shape, newTag(), now);
      await scenarios.deliver(...life.all);
      return { life, log: await comparableLog(scenarios, life) };
    })();
    return reference;
  };
  const referenceLog = async () => (await referenceLife()).log;
  const storedEvents = (life: Lifecycle) =>
    scenarios.db.stripeEvent.findMany({
      where: { id: { startsWith: `evt_${life.tag}_` } },
      orderBy: { id: "asc" },
    });

  it("in-order single delivery of a whole life: grant, grace, recovery, scheduled cancel, revoke", async () => {
    const { life } = await referenceLife();
    const { events } = life;
    expect(await scenarios.entitlement(`user_${life.tag}`, "reports")).toMatchObject({
      customer: life.customer,
      has_access: false,
      reason: "subscription_canceled",
    });
    const log = await scenarios.expectLog(life.customer, [
      ...rowsFor(PRO_FEATURES, "grant", byEvent(events.activated)),
      ...rowsFor(PRO_FEATURES, "change", byEvent(events.pastDue)),
      // Paid but not yet recovered: with no open invoice left, the grace runs from when it became past_due.
      ...rowsFor(PRO_FEATURES, "change", byEvent(events.renewalPaid)),
      ...rowsFor(PRO_FEATURES, "change", byEvent(events.recovered)),
      ...rowsFor(PRO_FEATURES, "change", byEvent(events.cancelRequested)),
      ...rowsFor(PRO_FEATURES, "revoke", byEvent(events.deleted)),
    ]);
    // The renewal (lifecycle: two days before now) was owed from its period end; it turned past_due an hour later.
    const graceFrom = (seconds: number) => new Date((seconds + 3 * DAY) * 1000).toISOString();
    expect(log.find((e) => e.cause === byEvent(events.renewalPaid))).toMatchObject({
      before: { status: "grace", grace_until: graceFrom(now - 2 * DAY) },
      after: { status: "grace", grace_until: graceFrom(Number(events.pastDue["created"])) },
    });
  });

  it("every event delivered twice, the second time after it was applied, logs exactly what single delivery logs", async () => {
    const twice = lifecycle(shape, newTag(), now);
    for (const envelope of twice.all) {
      await scenarios.deliver(envelope);
      await scenarios.post(envelope);
      expect(await scenarios.process(String(envelope["id"]))).toEqual({ status: "processed", skipped: true });
    }
    expect((await storedEvents(twice)).map((row) => row.deliveryCount)).toEqual(twice.all.map(() => 2));
    expect(await comparableLog(scenarios, twice)).toEqual(await referenceLog());
  });

  it("every event delivered twice at once, applied by a real worker, logs exactly what single delivery logs", async () => {
    const expected = await referenceLog();
    const twice = lifecycle(shape, newTag(), now);
    for (const envelope of twice.all) await Promise.all([scenarios.post(envelope), scenarios.post(envelope)]);

    const { ctx } = scenarios;
    const connection = createRedis(ctx.config.redisUrl);
    // One at a time, as one customer's events would be if they were queued in Stripe's order.
    const worker = createWorker(
      { connection, prefix: ctx.config.queuePrefix, logger: ctx.logger, concurrency: 1 },
      QUEUES.stripeEvents,
      (job, log) => processStripeEventJob(ctx, job, log),
    );
    try {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const handled = (await storedEvents(twice)).filter((row) => row.status === "processed").length;
        if (handled === twice.all.length) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await worker.close();
      connection.disconnect();
    }
    expect((await storedEvents(twice)).map((row) => [row.status, row.deliveryCount])).toEqual(
      twice.all.map(() => ["processed", 2]),
    );
    expect(await comparableLog(scenarios, twice)).toEqual(expected);
  });
});
