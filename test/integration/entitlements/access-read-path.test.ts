import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppContext } from "../../../src/app-context.js";
import { applyEntitlementsForCustomer } from "../../../src/entitlements/apply-entitlements.js";
import { type FeatureDefinition, parseCatalog } from "../../../src/entitlements/catalog.js";
import {
  countsUsage,
  decideFeatureAccess,
  type FeatureAccess,
} from "../../../src/entitlements/decide-access.js";
import { decideEntitlements } from "../../../src/entitlements/decide-entitlements.js";
import {
  type AccessReader,
  batchingReader,
  loadCustomerAccess,
} from "../../../src/entitlements/load-access.js";
import { loadHolds, loadSubscriptionStates } from "../../../src/entitlements/load-entitlement-state.js";
import { Quantity } from "../../../src/entitlements/quantity.js";
import { loadUsageTotal } from "../../../src/ledger/usage-totals.js";
import { createTestApp, type TestApp } from "../../support/app.js";
import {
  DAY_MS,
  fromNow,
  insertCustomer,
  insertSubscription,
  insertUsage,
  type SubscriptionRow,
} from "./support.js";

const catalog = parseCatalog(
  {
    features: {
      api_calls: { type: "metered", stripe_meter_event_name: "api_calls" },
      tokens: { type: "metered", stripe_meter_event_name: "llm_tokens" },
      credits: { type: "metered", stripe_meter_event_name: "credits" },
      sso: { type: "boolean" },
      seats: { type: "static" },
    },
    plans: [
      {
        match: { price: "price_pro" },
        grants: {
          sso: true,
          seats: 3,
          api_calls: { limit: 1000 },
          credits: { limit: "500.5", reset: "never" },
        },
      },
      {
        match: { lookup_key: "team_per_seat" },
        grants: { seats: { value: 1, per_seat: true }, api_calls: { limit: 500, per_seat: true } },
      },
      {
        match: { product: "prod_enterprise" },
        grants: { sso: true, api_calls: { limit: null }, tokens: { limit: null } },
      },
    ],
    grace: { past_due_days: 7 },
  },
  "access-read-path-catalog",
);
const FEATURES: FeatureDefinition[] = Object.values(catalog.features);

let t: TestApp;
let reader: AccessReader;
/** Statements the reader sent to Postgres. */
let statements = 0;

beforeAll(async () => {
  t = await createTestApp({ extend: (ctx) => ({ ...ctx, catalog }) });
  const pool = new pg.Pool({ connectionString: t.ctx.config.databaseUrl, max: 2 });
  reader = batchingReader({
    query: ((...args: Parameters<typeof pool.query>) => {
      statements++;
      return pool.query(...args);
    }) as typeof pool.query,
    end: () => pool.end(),
  });
});
afterAll(async () => {
  await reader?.close();
  await t?.close();
});

/** The answer as the Prisma loaders and the pure decisions give it: what the read path must keep answering. */
async function referenceAccess(ctx: AppContext, customerId: string, now: Date): Promise<FeatureAccess[]> {
  const subscriptions = await loadSubscriptionStates(ctx.db, customerId);
  const holds = await loadHolds(ctx.db, customerId);
  const decision = decideEntitlements(ctx.catalog, subscriptions, now, holds);
  return Promise.all(
    FEATURES.map(async (definition) => {
      const entitlement = decision.features.find((candidate) => candidate.feature === definition.key);
      if (entitlement === undefined || !countsUsage(definition, entitlement))
        return decideFeatureAccess(definition, entitlement, null);
      const windowed = entitlement.reset === "billing_period";
      const used = await loadUsageTotal(ctx.db, {
        customerId,
        feature: definition.key,
        from: windowed ? entitlement.periodStart : null,
        to: windowed ? entitlement.periodEnd : null,
      });
      return decideFeatureAccess(definition, entitlement, new Quantity(used.toString()));
    }),
  );
}

type Scenario = {
  name: string;
  subscriptions: SubscriptionRow[];
  externalId?: string;
  /** Open invoices of the first subscription, by how long ago the period they bill ended. */
  openInvoiceEndedDaysAgo?: number;
  refundHold?: boolean;
};

const pro = { priceId: "price_pro", productId: "prod_pro" };
const SCENARIOS: Scenario[] = [
  { name: "active Pro with usage inside and before its period", subscriptions: [{ items: [pro] }] },
  {
    name: "Team per seat, 3 seats, by lookup key",
    subscriptions: [{ items: [{ priceId: "price_team", lookupKey: "team_per_seat", quantity: 3 }] }],
  },
  {
    name: "Pro and Enterprise together (union, unlimited wins)",
    subscriptions: [{ items: [pro] }, { items: [{ priceId: "price_ent", productId: "prod_enterprise" }] }],
  },
  { name: "trialing", subscriptions: [{ status: "trialing", items: [pro] }] },
  {
    name: "past_due in grace",
    subscriptions: [{ status: "past_due", items: [pro] }],
    openInvoiceEndedDaysAgo: 2,
  },
  {
    name: "past_due after the grace",
    subscriptions: [{ status: "past_due", items: [pro] }],
    openInvoiceEndedDaysAgo: 10,
  },
  {
    name: "collection paused",
    subscriptions: [
      { items: [pro], pauseCollection: { behavior: "void", resumesAt: fromNow(5 * DAY_MS).toISOString() } },
    ],
  },
  { name: "cancellation scheduled", subscriptions: [{ items: [pro], cancelAt: fromNow(3 * DAY_MS) }] },
  { name: "canceled", subscriptions: [{ status: "canceled", endedAt: fromNow(-DAY_MS), items: [pro] }] },
  { name: "payment refunded (hold)", subscriptions: [{ items: [pro] }], refundHold: true },
  { name: "no subscription at all", subscriptions: [] },
  { name: "named by the product's own id", subscriptions: [{ items: [pro] }], externalId: "user_read_path" },
];

async function seed(scenario: Scenario, index: number): Promise<{ customerId: string; name: string }> {
  const customerId = await insertCustomer(
    t.db,
    scenario.externalId === undefined ? {} : { externalId: scenario.externalId },
  );
  const ids: string[] = [];
  for (const row of scenario.subscriptions) ids.push(await insertSubscription(t.db, customerId, row));
  if (scenario.openInvoiceEndedDaysAgo !== undefined) {
    const periodEnd = fromNow(-scenario.openInvoiceEndedDaysAgo * DAY_MS);
    await t.db.invoice.create({
      data: {
        id: `in_read_path_${index}`,
        customerId,
        subscriptionId: ids[0]!,
        status: "open",
        currency: "usd",
        periodStart: new Date(periodEnd.getTime() - 30 * DAY_MS),
        periodEnd,
      },
    });
  }
  if (scenario.refundHold)
    await t.db.entitlementHold.create({
      data: {
        customerId,
        subscriptionId: ids[0]!,
        kind: "refund",
        reference: `ch_read_path_${index}`,
        reason: "payment_refunded",
        eventCreated: fromNow(-60_000),
      },
    });
  for (const [feature, quantity] of [
    ["api_calls", "250.25"],
    ["credits", "100"],
    ["tokens", "7"],
  ] as const) {
    await insertUsage(t.db, { customerId, feature, quantity });
    // Long before any current period: counted only by a feature that never resets.
    await insertUsage(t.db, { customerId, feature, quantity: "1", occurredAt: fromNow(-400 * DAY_MS) });
  }
  await applyEntitlementsForCustomer(t.ctx, customerId, { cause: "event:evt_read_path" });
  return { customerId, name: scenario.externalId ?? customerId };
}

describe("the access read path", () => {
  it.each(SCENARIOS.map((scenario, index) => [scenario.name, scenario, index] as const))(
    "%s: the same answer as the full decision, in one read and no write",
    async (_name, scenario, index) => {
      const { customerId, name } = await seed(scenario, index);
      const now = new Date();
      const logBefore = await t.db.accessLog.count();
      const stored = await t.db.entitlement.findMany({ where: { customerId }, orderBy: { feature: "asc" } });

      // Agreeing entitlements need nothing but the one read: Prisma is not touched at all.
      const readsBefore = statements;
      const noPrisma = {
        ...t.ctx,
        db: new Proxy(
          {},
          {
            get: (_target, property) => {
              throw new Error(`the read path used Prisma (${String(property)})`);
            },
          },
        ),
      } as AppContext;

      const answer = await loadCustomerAccess(noPrisma, reader, name, FEATURES, { now });

      expect(statements - readsBefore).toBe(1);

      expect(answer.stripeCustomerId).toBe(customerId);
      expect(answer.access).toEqual(await referenceAccess(t.ctx, customerId, now));
      expect(await t.db.accessLog.count()).toBe(logBefore);
      expect(await t.db.entitlement.findMany({ where: { customerId }, orderBy: { feature: "asc" } })).toEqual(
        stored,
      );
    },
  );

  it("checks arriving together share one statement, each answered for its own customer", async () => {
    const seeded = [];
    for (const [index, scenario] of SCENARIOS.entries())
      seeded.push(await seed({ ...scenario, externalId: undefined }, 200 + index));
    const now = new Date();
    const before = statements;

    const answers = await Promise.all([
      ...seeded.map(({ customerId }) => loadCustomerAccess(t.ctx, reader, customerId, FEATURES, { now })),
      loadCustomerAccess(t.ctx, reader, seeded[0]!.customerId, [catalog.features["sso"]!], { now }),
    ]);

    expect(statements - before).toBe(1);
    for (const [index, { customerId }] of seeded.entries())
      expect(answers[index]).toEqual({
        stripeCustomerId: customerId,
        access: await referenceAccess(t.ctx, customerId, now),
      });
    expect(answers.at(-1)!.access).toEqual(answers[0]!.access.filter((access) => access.feature === "sso"));
  });

  it("answers each feature alone as it answers them all", async () => {
    const { customerId } = await seed({ name: "single", subscriptions: [{ items: [pro] }] }, 100);
    const now = new Date();
    const all = await loadCustomerAccess(t.ctx, reader, customerId, FEATURES, { now });
    for (const definition of FEATURES) {
      const one = await loadCustomerAccess(t.ctx, reader, customerId, [definition], { now });
      expect(one.access).toEqual(all.access.filter((access) => access.feature === definition.key));
    }
  });

  it("stored entitlements lagging behind the clock are brought up to date once, and the answer is the new one", async () => {
    const { customerId } = await seed(
      { name: "lagging", subscriptions: [{ items: [pro], cancelAt: fromNow(3 * DAY_MS) }] },
      101,
    );
    // The clock passes the cancellation with no deleted event and no enforcement job run.
    const now = fromNow(4 * DAY_MS);

    const first = await loadCustomerAccess(t.ctx, reader, customerId, FEATURES, { now });
    const second = await loadCustomerAccess(t.ctx, reader, customerId, FEATURES, { now });

    expect(first.access).toEqual(await referenceAccess(t.ctx, customerId, now));
    expect(second.access).toEqual(first.access);
    expect(first.access.find((access) => access.feature === "sso")).toMatchObject({
      hasAccess: false,
      reason: "subscription_canceled",
    });
    const revokes = await t.db.accessLog.findMany({ where: { customerId, action: "revoke" } });
    expect(revokes.map((row) => row.cause)).toEqual(Array(4).fill("check:access-api"));
  });

  it("an unknown customer is customer_not_found, naming it", async () => {
    await expect(loadCustomerAccess(t.ctx, reader, "cus_nobody", FEATURES)).rejects.toMatchObject({
      code: "customer_not_found",
      message: 'no customer "cus_nobody" (neither a Stripe customer id nor a known product id)',
    });
  });
});
