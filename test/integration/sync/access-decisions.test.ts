import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { markAccessInputsChanged } from "../../../src/entitlements/access-decisions.js";
import { createAccessReader, loadCustomerAccess } from "../../../src/entitlements/load-access.js";
import { createRedis } from "../../../src/queue/connection.js";
import { createQueue } from "../../../src/queue/queues.js";
import { QUEUES } from "../../../src/queue/registry.js";
import { normalizeSubscription } from "../../../src/stripe/normalize/subscription.js";
import { inMirrorTransaction } from "../../../src/sync/mirror-transaction.js";
import { saveSubscription } from "../../../src/sync/subscription-mirror.js";
import { anEvent, anInvoice, aPrice, aSubscription, stripeId } from "../../support/builders.js";
import { createSyncHarness, loadAccessLog, PRO_PRICE, type SyncHarness } from "./sync-harness.js";

/**
 * The access API answers from the stored entitlements while their decision is current (access-decisions.ts).
 * That holds only if every mirror write that can change a decision marks it stale in the write's own transaction.
 */
let harness: SyncHarness;
let reader: ReturnType<typeof createAccessReader>;
beforeAll(async () => {
  harness = await createSyncHarness();
  reader = createAccessReader(harness.ctx.config.databaseUrl, 2);
});
afterAll(async () => {
  await reader?.close();
  await harness?.close();
});

const DAY = 86_400;
const nowUnix = () => Math.floor(Date.now() / 1000);

const versions = (customerId: string) =>
  harness.db.accessDecision.findUnique({
    where: { customerId },
    select: { inputsVersion: true, decidedVersion: true },
  });

async function activeCustomer(price: string = PRO_PRICE, priceJson?: Record<string, unknown>) {
  const customer = stripeId("cus");
  const subscription = stripeId("sub");
  const now = nowUnix();
  const json = (status: "active" | "canceled", created: number) =>
    aSubscription({
      id: subscription,
      customer,
      status,
      created: now - 30 * DAY,
      currentPeriodStart: now - DAY,
      items: [{ price: priceJson ?? { id: price } }],
      ...(status === "canceled" ? { endedAt: created, canceledAt: created } : {}),
    });
  await harness.apply(
    anEvent("customer.subscription.created", json("active", now - 60), { created: now - 60 }),
  );
  return { customer, subscription, json, now };
}

describe("stored decisions and the writes that make them stale", () => {
  it("a subscription event bumps the version and applying records it: the decision is current", async () => {
    const { customer } = await activeCustomer();
    const after = await versions(customer);
    expect(after).not.toBeNull();
    expect(after!.inputsVersion).toBeGreaterThan(0n);
    expect(after!.decidedVersion).toBe(after!.inputsVersion);
  });

  it("an invoice event bumps the customer's version", async () => {
    const { customer, subscription, now } = await activeCustomer();
    const before = (await versions(customer))!.inputsVersion;
    await harness.apply(
      anEvent(
        "invoice.payment_failed",
        anInvoice({ customer, subscription, status: "open", created: now - 30 }),
        { created: now - 30 },
      ),
    );
    const after = await versions(customer);
    expect(after!.inputsVersion).toBe(before + 1n);
    expect(after!.decidedVersion).toBe(after!.inputsVersion);
  });

  it("a price whose lookup key changes bumps every customer on it, and no one else", async () => {
    const priceId = stripeId("price");
    const price = (lookupKey: string | null, created: number) =>
      aPrice({ id: priceId, lookupKey, created: created - 10 * DAY });
    const first = await activeCustomer(priceId, price(null, nowUnix()));
    const second = await activeCustomer(priceId, price(null, nowUnix()));
    const bystander = await activeCustomer();
    const before = await Promise.all([first, second, bystander].map(({ customer }) => versions(customer)));

    await harness.apply(anEvent("price.updated", price("pro_renamed", nowUnix()), { created: nowUnix() }));

    const after = await Promise.all([first, second, bystander].map(({ customer }) => versions(customer)));
    expect(after.map((row) => row!.inputsVersion - before[after.indexOf(row)]!.inputsVersion)).toEqual([
      1n,
      1n,
      0n,
    ]);
  });

  it("a mirror write whose entitlements were never applied (a worker stopped between the two) is decided at the next check", async () => {
    const { customer, json, now } = await activeCustomer();
    const sso = harness.ctx.catalog.features["sso"]!;
    expect((await loadCustomerAccess(harness.ctx, reader, customer, [sso])).access[0]).toMatchObject({
      hasAccess: true,
    });

    const canceled = normalizeSubscription(json("canceled", now - 5));
    if (!canceled.ok) throw new Error(canceled.reason);
    await inMirrorTransaction(harness.db, (tx) =>
      saveSubscription(
        tx,
        canceled.value,
        { eventCreated: new Date((now - 5) * 1000), eventId: "evt_x" },
        "rule",
      ),
    );
    const stale = await versions(customer);
    expect(stale!.decidedVersion).toBeLessThan(stale!.inputsVersion);

    const answer = await loadCustomerAccess(harness.ctx, reader, customer, [sso]);

    expect(answer.access[0]).toMatchObject({
      hasAccess: false,
      status: "revoked",
      reason: "subscription_canceled",
    });
    const revokes = (await loadAccessLog(harness.db, customer)).filter((row) => row.action === "revoke");
    expect(revokes.map((row) => [row.feature, row.cause])).toEqual([
      ["api_calls", "check:access-api"],
      ["sso", "check:access-api"],
    ]);
    const current = await versions(customer);
    expect(current!.decidedVersion).toBe(current!.inputsVersion);
  });

  it("a decision made with another catalog is made again with this one", async () => {
    const { customer } = await activeCustomer();
    const sso = harness.ctx.catalog.features["sso"]!;
    const withoutSso = {
      ...harness.ctx.catalog,
      plans: harness.ctx.catalog.plans.map((plan) => ({
        ...plan,
        grants: plan.grants.filter((grant) => grant.feature !== "sso"),
      })),
    };

    const answer = await loadCustomerAccess({ ...harness.ctx, catalog: withoutSso }, reader, customer, [sso]);

    expect(answer.access[0]).toMatchObject({
      hasAccess: false,
      status: "revoked",
      reason: "no_plan_grants_feature",
    });
    const log = await loadAccessLog(harness.db, customer);
    expect(log.at(-1)).toMatchObject({ feature: "sso", action: "revoke", cause: "check:access-api" });
    // Now current: answered from the stored rows, with the same answer, and nothing more logged.
    const current = await versions(customer);
    expect(current!.decidedVersion).toBe(current!.inputsVersion);
    const again = await loadCustomerAccess({ ...harness.ctx, catalog: withoutSso }, reader, customer, [sso]);
    expect(again.access).toEqual(answer.access);
    expect(await loadAccessLog(harness.db, customer)).toHaveLength(log.length);
  });

  it("a check that re-decides answers while Redis is down, leaving the enforcement job behind", async () => {
    const customer = stripeId("cus");
    const now = nowUnix();
    const subscription = aSubscription({
      customer,
      created: now - 30 * DAY,
      currentPeriodStart: now - DAY,
      cancelAt: now + DAY,
      items: [{ price: { id: PRO_PRICE } }],
    });
    await harness.apply(anEvent("customer.subscription.created", subscription, { created: now - 60 }));
    // Nothing listens there; the client holds every command until it connects, which it never does.
    const redis = createRedis("redis://127.0.0.1:1");
    redis.on("error", () => {});
    const deadQueue = createQueue({ connection: redis, prefix: "lg_dead" }, QUEUES.entitlements);
    deadQueue.on("error", () => {});
    const sso = harness.ctx.catalog.features["sso"]!;
    // Another catalog, so the stored decision does not hold and the check decides (and schedules) afresh.
    const catalog = { ...harness.ctx.catalog, grace: { pastDueDays: 2 } };
    try {
      const answer = await Promise.race([
        loadCustomerAccess(
          { ...harness.ctx, catalog, queues: { ...harness.ctx.queues, entitlements: deadQueue } },
          reader,
          customer,
          [sso],
        ),
        new Promise((_, reject) => setTimeout(() => reject(new Error("the check waited on Redis")), 3000)),
      ]);
      expect(answer).toMatchObject({ access: [{ hasAccess: true, reason: "cancel_scheduled" }] });
      const current = await versions(customer);
      expect(current!.decidedVersion).toBe(current!.inputsVersion);
    } finally {
      redis.disconnect();
    }
  });

  it("checks arriving together for a customer whose decision does not hold share one re-decision", async () => {
    const { customer } = await activeCustomer();
    await markAccessInputsChanged(harness.db, [customer]);
    let transactions = 0;
    const db = new Proxy(harness.db, {
      get(target, property) {
        if (property === "$transaction") transactions++;
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const sso = harness.ctx.catalog.features["sso"]!;

    const answers = await Promise.all(
      Array.from({ length: 50 }, () => loadCustomerAccess({ ...harness.ctx, db }, reader, customer, [sso])),
    );

    expect(transactions).toBe(1);
    for (const answer of answers) expect(answer.access).toEqual(answers[0]!.access);
    expect(answers[0]!.access[0]).toMatchObject({ hasAccess: true, reason: "subscription_active" });
    const current = await versions(customer);
    expect(current!.decidedVersion).toBe(current!.inputsVersion);
  });
});
