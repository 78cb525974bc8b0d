import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AppContext } from "../../../src/app-context.js";
import type { Config } from "../../../src/config/config.js";
import { aMeter, aPrice, aSubscription } from "../../../src/demo/stripe-objects.js";
import type { StripeObject } from "../../../src/demo/stripe-params.js";
import { applyEntitlementsForCustomer } from "../../../src/entitlements/apply-entitlements.js";
import { parseCatalog } from "../../../src/entitlements/catalog.js";
import { isoTime } from "../../../src/reconcile/findings.js";
import { runReconciliation } from "../../../src/reconcile/run-reconciliation.js";
import type { Report, ReportFinding } from "../../../src/report/report.js";
import { createTestApp, type TestApp } from "../../support/app.js";

const STRIPE = "https://api.stripe.com";
const DAY_MS = 24 * 60 * 60 * 1000;
// Whole seconds, as Stripe stamps times.
const NOW = Math.floor(Date.now() / 1000) * 1000;
const ENDED = new Date(NOW - 5 * DAY_MS);
const PERIOD_START = new Date(NOW - 20 * DAY_MS);
const PERIOD_END = new Date(NOW + 10 * DAY_MS);
const PERIOD = { from: new Date(NOW - 30 * DAY_MS), to: new Date(NOW + 60 * 60 * 1000) };
const unix = (date: Date) => Math.floor(date.getTime() / 1000);

const catalog = parseCatalog(
  {
    features: {
      tokens: { type: "metered", stripe_meter_event_name: "llm_tokens" },
      sso: { type: "boolean" },
    },
    plans: [{ match: { price: "price_pro" }, grants: { sso: true, tokens: { limit: null } } }],
  },
  "enforcement-test-catalog",
);

const created = unix(PERIOD_START) - 90 * 86400;
const proPrice = aPrice({
  id: "price_pro",
  product: "prod_pro",
  currency: "usd",
  created,
  nickname: "Pro",
  unitAmountDecimal: "4900",
});
const tokensPrice = aPrice({
  id: "price_tokens",
  product: "prod_tokens",
  currency: "usd",
  created,
  nickname: "Tokens",
  unitAmountDecimal: "0.0004",
  meter: "mtr_tokens",
});

/** What Stripe lists (status=all) for each customer; a test adds its customers here. */
const stripeSubscriptions: Record<string, StripeObject[]> = {};

function stripeSubscription(id: string, customer: string, status: "active" | "canceled"): StripeObject {
  return aSubscription({
    id,
    customer,
    currency: "usd",
    created,
    status,
    currentPeriodStart: unix(PERIOD_START),
    currentPeriodEnd: unix(status === "canceled" ? ENDED : PERIOD_END),
    ...(status === "canceled" ? { canceledAt: unix(ENDED), endedAt: unix(ENDED) } : {}),
    items: [
      { id: `si_${id}_pro`, price: proPrice },
      { id: `si_${id}_tokens`, price: tokensPrice },
    ],
  });
}

const listOf = (url: string, data: StripeObject[]) => ({ object: "list", data, has_more: false, url });

/** Fakes Stripe for any number of runs; returns the subscription listings asked for (customer:status). */
function fakeStripe(): string[] {
  const asked: string[] = [];
  nock(STRIPE)
    .persist()
    .get("/v1/billing/meters")
    .query(true)
    .reply(
      200,
      listOf("/v1/billing/meters", [
        aMeter({ id: "mtr_tokens", eventName: "llm_tokens", displayName: "Tokens", created }),
      ]),
    )
    .get("/v1/invoices")
    .query(true)
    .reply(200, listOf("/v1/invoices", []))
    .get("/v1/subscriptions")
    .query((query) => {
      asked.push(`${query["customer"]}:${query["status"]}`);
      return true;
    })
    .reply(200, (uri) => {
      const customer = new URL(uri, STRIPE).searchParams.get("customer") ?? "";
      return listOf("/v1/subscriptions", stripeSubscriptions[customer] ?? []);
    });
  return asked;
}

let t: TestApp;
let flagCtx: AppContext;

/** A customer whose mirror still holds `mirrored` active (granted by a webhook), with usage after ENDED. */
async function seedCustomer(customerId: string, mirrored: string[]): Promise<void> {
  await t.db.customer.create({ data: { id: customerId } });
  for (const id of mirrored) {
    await t.db.subscription.create({
      data: {
        id,
        customerId,
        status: "active",
        currentPeriodStart: PERIOD_START,
        currentPeriodEnd: PERIOD_END,
        stripeCreated: new Date(created * 1000),
        eventCreated: PERIOD_START,
        items: {
          create: [
            { id: `si_${id}_pro`, priceId: "price_pro", productId: "prod_pro", quantity: 1 },
            { id: `si_${id}_tokens`, priceId: "price_tokens", productId: "prod_tokens" },
          ],
        },
      },
    });
  }
  await applyEntitlementsForCustomer(t.ctx, customerId, { cause: `event:evt_grant_${customerId}` });
  await t.db.ledgerEntry.create({
    data: {
      usageId: `u_after_${customerId}`,
      customerId,
      feature: "tokens",
      quantity: "50000",
      occurredAt: new Date(ENDED.getTime() + DAY_MS),
      fingerprint: `fp_${customerId}`,
    },
  });
}

const lapsesOf = (report: Report, customer: string) =>
  report.findings
    .filter((finding) => finding.category === "access_not_revoked" && finding.customer === customer)
    .sort((a, b) => (a.feature ?? "").localeCompare(b.feature ?? ""));

const accessLog = (customerId: string) =>
  t.db.accessLog.findMany({ where: { customerId }, orderBy: [{ createdAt: "asc" }, { feature: "asc" }] });

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  t = await createTestApp({ extend: (ctx) => ({ ...ctx, catalog }) });
  flagCtx = { ...t.ctx, config: { ...t.ctx.config, enforceOnAudit: "flag" } as Config };
  await t.db.price.createMany({
    data: [
      { id: "price_pro", productId: "prod_pro", currency: "usd", unitAmount: 4900n },
      {
        id: "price_tokens",
        productId: "prod_tokens",
        currency: "usd",
        unitAmountDecimal: "0.0004",
        meterId: "mtr_tokens",
        usageType: "metered",
      },
    ],
  });
  // cus_a: canceled in Stripe, the deletion webhook never came. cus_ok: paying, never touched.
  stripeSubscriptions["cus_a"] = [stripeSubscription("sub_a", "cus_a", "canceled")];
  stripeSubscriptions["cus_ok"] = [stripeSubscription("sub_ok", "cus_ok", "active")];
  await seedCustomer("cus_a", ["sub_a"]);
  await seedCustomer("cus_ok", ["sub_ok"]);
});

afterEach(() => {
  nock.cleanAll();
});

afterAll(async () => {
  nock.enableNetConnect();
  await t?.close();
});

const WHY_A = `subscription sub_a is canceled in Stripe since ${isoTime(ENDED)}; the deletion webhook never arrived (the mirror still says active)`;

describe("LEAKGUARD_ENFORCE_ON_AUDIT=flag", () => {
  it("reports access held after payment ended, says why, and changes no entitlement", async () => {
    const asked = fakeStripe();
    const logBefore = await t.db.accessLog.count();

    const { report } = await runReconciliation(flagCtx, { ...PERIOD, trigger: "cli" });

    expect(asked.sort()).toEqual(["cus_a:all", "cus_ok:all"]);
    const lapses = lapsesOf(report, "cus_a");
    expect(lapses.map((finding) => [finding.feature, finding.status, finding.actual])).toEqual([
      ["sso", "open", "active"],
      ["tokens", "open", "active"],
    ]);
    expect(lapses[1]!.amount_minor).toBe("20"); // 50,000 tokens after the end × 0.0004 cents
    for (const finding of lapses) {
      expect(finding.evidence["why"]).toBe(WHY_A);
      expect(finding.evidence).not.toHaveProperty("fix");
    }
    expect(lapsesOf(report, "cus_ok")).toEqual([]);
    expect(await t.db.accessLog.count()).toBe(logBefore);
    const held = await t.db.entitlement.findMany({ where: { customerId: "cus_a" } });
    expect(held.map((row) => row.status)).toEqual(["active", "active"]);
    const mirror = await t.db.subscription.findUniqueOrThrow({ where: { id: "sub_a" } });
    expect(mirror.status).toBe("active");
  });
});

describe("LEAKGUARD_ENFORCE_ON_AUDIT=revoke (the default)", () => {
  let firstRun: { runId: string; report: Report };

  it("revokes the access with one access-log row per feature naming the run, and marks the findings fixed", async () => {
    const asked = fakeStripe();
    const flagged = await t.db.finding.findMany({
      where: { customerId: "cus_a" },
      orderBy: { feature: "asc" },
    });
    const okLogBefore = (await accessLog("cus_ok")).length;

    firstRun = await runReconciliation(t.ctx, { ...PERIOD, trigger: "schedule" });
    const cause = `check:reconcile:${firstRun.runId}`;

    expect(asked.sort()).toEqual(["cus_a:all", "cus_ok:all"]);
    const revokes = (await accessLog("cus_a")).filter((row) => row.action === "revoke");
    expect(revokes.map((row) => [row.feature, row.cause, row.eventId])).toEqual([
      ["sso", cause, null],
      ["tokens", cause, null],
    ]);
    const rows = await t.db.entitlement.findMany({
      where: { customerId: "cus_a" },
      orderBy: { feature: "asc" },
    });
    expect(rows.map((row) => [row.feature, row.status, row.reason])).toEqual([
      ["sso", "revoked", "subscription_canceled"],
      ["tokens", "revoked", "subscription_canceled"],
    ]);
    const mirror = await t.db.subscription.findUniqueOrThrow({ where: { id: "sub_a" } });
    expect([mirror.status, mirror.endedAt?.getTime()]).toEqual(["canceled", ENDED.getTime()]);

    const lapses = lapsesOf(firstRun.report, "cus_a");
    // The same problem the flag run found: the same findings, now fixed.
    expect(lapses.map((finding) => finding.id)).toEqual(flagged.map((finding) => finding.id));
    lapses.forEach((finding: ReportFinding, index) => {
      expect(finding.status).toBe("fixed");
      expect(finding.evidence["why"]).toBe(WHY_A);
      expect(finding.evidence["fix"]).toEqual({
        action: "revoked",
        cause,
        access_log: revokes[index]!.id,
        at: isoTime(revokes[index]!.createdAt),
        reason: "subscription_canceled",
      });
    });
    const stored = await t.db.finding.findMany({ where: { customerId: "cus_a" } });
    expect(stored.map((finding) => finding.status)).toEqual(["fixed", "fixed"]);
    const run = await t.db.reconciliationRun.findUniqueOrThrow({ where: { id: firstRun.runId } });
    expect(run.status).toBe("completed");
    expect(run.report).toEqual(JSON.parse(JSON.stringify(firstRun.report)));
    expect((await accessLog("cus_ok")).length).toBe(okLogBefore);
  });

  it("running again finds nothing left to fix and adds nothing", async () => {
    const asked = fakeStripe();
    const logBefore = await t.db.accessLog.count();

    const second = await runReconciliation(t.ctx, { ...PERIOD, trigger: "schedule" });

    expect(asked).toEqual(["cus_ok:all"]);
    expect(second.report.findings.filter((finding) => finding.category === "access_not_revoked")).toEqual([]);
    expect(await t.db.accessLog.count()).toBe(logBefore);
    const stored = await t.db.finding.findMany({ where: { customerId: "cus_a" } });
    expect(stored.map((finding) => finding.status)).toEqual(["fixed", "fixed"]);
  });

  it("two runs at once revoke once: one access-log row per feature, both reports fixed", async () => {
    stripeSubscriptions["cus_b"] = [stripeSubscription("sub_b", "cus_b", "canceled")];
    await seedCustomer("cus_b", ["sub_b"]);
    fakeStripe();

    const runs = await Promise.all([
      runReconciliation(t.ctx, { ...PERIOD, trigger: "schedule" }),
      runReconciliation(t.ctx, { ...PERIOD, trigger: "api" }),
    ]);

    const revokes = (await accessLog("cus_b")).filter((row) => row.action === "revoke");
    expect(revokes.map((row) => row.feature)).toEqual(["sso", "tokens"]);
    expect(new Set(revokes.map((row) => row.cause)).size).toBe(1);
    expect(runs.map((run) => `check:reconcile:${run.runId}`)).toContain(revokes[0]!.cause);
    for (const run of runs) {
      const lapses = lapsesOf(run.report, "cus_b");
      expect(lapses.map((finding) => [finding.status, finding.evidence["fix"]])).toEqual(
        revokes.map((row) => [
          "fixed",
          expect.objectContaining({ action: "revoked", cause: row.cause, access_log: row.id }),
        ]),
      );
    }
  });

  it("access another mirrored subscription still grants stays, and its finding stays open saying so", async () => {
    // Stripe lists only sub_c (canceled, never mirrored); the mirror still holds sub_c_old active.
    stripeSubscriptions["cus_c"] = [stripeSubscription("sub_c", "cus_c", "canceled")];
    await seedCustomer("cus_c", ["sub_c_old"]);
    fakeStripe();
    const logBefore = (await accessLog("cus_c")).length;

    const { runId, report } = await runReconciliation(t.ctx, { ...PERIOD, trigger: "cli" });

    expect((await accessLog("cus_c")).length).toBe(logBefore);
    const lapses = lapsesOf(report, "cus_c");
    expect(lapses.map((finding) => [finding.feature, finding.status])).toEqual([
      ["sso", "open"],
      ["tokens", "open"],
    ]);
    expect(lapses[0]!.evidence["why"]).toBe(
      `subscription sub_c is canceled in Stripe since ${isoTime(ENDED)}; no webhook for it was ever applied (the mirror has no copy of it)`,
    );
    expect(lapses[0]!.evidence["fix"]).toEqual({
      action: "not_revoked",
      cause: `check:reconcile:${runId}`,
      entitlement_status: "active",
      reason: "subscription_active",
    });
  });
});
