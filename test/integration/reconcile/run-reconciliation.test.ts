import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../../../src/config/config.js";
import { aMeter, anInvoice, aPrice, aSubscription } from "../../../src/demo/stripe-objects.js";
import type { StripeObject } from "../../../src/demo/stripe-params.js";
import { parseCatalog } from "../../../src/entitlements/catalog.js";
import { runReconciliation } from "../../../src/reconcile/run-reconciliation.js";
import { loadReport } from "../../../src/report/load-report.js";
import { renderReport } from "../../../src/report/render-report.js";
import type { Report, ReportTotals } from "../../../src/report/report.js";
import { createTestApp, type TestApp } from "../../support/app.js";

const STRIPE = "https://api.stripe.com";
const FROM = new Date("2026-11-01T00:00:00Z");
const TO = new Date("2026-12-01T00:00:00Z");
const ENDED = new Date("2026-11-20T00:00:00Z");
const unix = (date: Date) => Math.floor(date.getTime() / 1000);
const T0 = unix(FROM);
const T1 = unix(TO);

const catalog = parseCatalog(
  {
    features: {
      tokens: { type: "metered", stripe_meter_event_name: "llm_tokens" },
      api_calls: { type: "metered", stripe_meter_event_name: "api_calls" },
      sso: { type: "boolean" },
    },
    plans: [
      {
        match: { price: "price_pro" },
        grants: { sso: true, tokens: { limit: null }, api_calls: { limit: null } },
      },
    ],
  },
  "reconcile-test-catalog",
);

// Stripe's side: two meters, a tiered euro price only Stripe knows, invoices created in the period (one of which
// never reached the mirror), and each entitled customer's subscriptions.
const meters = [
  aMeter({ id: "mtr_tokens", eventName: "llm_tokens", displayName: "Tokens", created: T0 - 86400 }),
  aMeter({ id: "mtr_calls", eventName: "api_calls", displayName: "API calls", created: T0 - 86400 }),
];
const tokensPrice = aPrice({
  id: "price_tokens",
  product: "prod_tokens",
  currency: "usd",
  created: T0 - 86400,
  nickname: "Tokens",
  unitAmountDecimal: "0.000381",
  meter: "mtr_tokens",
});
const callsPrice = aPrice({
  id: "price_calls",
  product: "prod_calls",
  currency: "usd",
  created: T0 - 86400,
  nickname: "API calls",
  unitAmountDecimal: "2",
  meter: "mtr_calls",
});
const euroTieredPrice: StripeObject = {
  ...aPrice({
    id: "price_tokens_eur",
    product: "prod_tokens",
    currency: "eur",
    created: T0 - 86400,
    nickname: "Tokens (EUR, graduated)",
    unitAmountDecimal: "0",
    meter: "mtr_tokens",
  }),
  billing_scheme: "tiered",
  tiers_mode: "graduated",
  unit_amount: null,
  unit_amount_decimal: null,
  tiers: [
    { flat_amount: null, flat_amount_decimal: null, unit_amount: 0, unit_amount_decimal: "0", up_to: 1000 },
    {
      flat_amount: null,
      flat_amount_decimal: null,
      unit_amount: null,
      unit_amount_decimal: "0.5",
      up_to: null,
    },
  ],
};

function stripeInvoice(
  id: string,
  customer: string,
  currency: string,
  lines: Parameters<typeof anInvoice>[0]["lines"],
) {
  return anInvoice({
    id,
    customer,
    customerEmail: `${customer}@example.com`,
    customerName: customer,
    subscription: `sub_${customer}`,
    currency,
    created: T1,
    status: "paid",
    billingReason: "subscription_cycle",
    periodStart: T0,
    periodEnd: T1,
    number: id.toUpperCase(),
    lines,
    finalizedAt: T1,
    paidAt: T1,
  });
}
const lineOf = (id: string, customer: string, price: StripeObject, quantity: string, amount: number) => ({
  id,
  subscription: `sub_${customer}`,
  subscriptionItem: `si_${id}`,
  price,
  quantity,
  amount,
  periodStart: T0,
  periodEnd: T1,
  description: id,
});
// cus_b's invoice never arrived by webhook: it is only in Stripe, and it over-bills 1200 calls for 1000 used.
const invoiceB = stripeInvoice("in_b", "cus_b", "usd", [
  lineOf("il_b_calls", "cus_b", callsPrice, "1200", 2400),
]);
// cus_c's euro invoice is in both; Stripe's copy is what counts: 1500 tokens billed, 2001 used.
const invoiceC = stripeInvoice("in_c", "cus_c", "eur", [
  lineOf("il_c_tokens", "cus_c", euroTieredPrice, "1500", 250),
]);

const subscriptionsOf: Record<string, StripeObject[]> = {
  cus_a: [
    aSubscription({
      id: "sub_cus_a",
      customer: "cus_a",
      currency: "usd",
      created: T0 - 86400 * 60,
      status: "active",
      currentPeriodStart: T0,
      currentPeriodEnd: T1,
      items: [{ id: "si_a_tokens", price: tokensPrice }],
    }),
  ],
  cus_x: [
    aSubscription({
      id: "sub_cus_x",
      customer: "cus_x",
      currency: "usd",
      created: T0 - 86400 * 60,
      status: "canceled",
      canceledAt: unix(ENDED),
      endedAt: unix(ENDED),
      currentPeriodStart: T0,
      currentPeriodEnd: unix(ENDED),
      items: [{ id: "si_x_tokens", price: tokensPrice }],
    }),
  ],
};

const listOf = (url: string, data: StripeObject[]) => ({ object: "list", data, has_more: false, url });

/** Fakes the Stripe reads of one run; returns what was asked so the test can check the calls themselves. */
function fakeStripe() {
  const asked: { invoiceRanges: string[]; subscriptionQueries: string[]; priceQueries: string[] } = {
    invoiceRanges: [],
    subscriptionQueries: [],
    priceQueries: [],
  };
  const scope = nock(STRIPE)
    .get("/v1/billing/meters")
    .query(true)
    .reply(200, listOf("/v1/billing/meters", meters))
    .get("/v1/invoices")
    .query((query) => {
      asked.invoiceRanges.push(`${query["created[gte]"]}..${query["created[lt]"]}`);
      return true;
    })
    .reply(200, listOf("/v1/invoices", [invoiceB, invoiceC]))
    .get("/v1/subscriptions")
    .times(2)
    .query((query) => {
      asked.subscriptionQueries.push(`${query["customer"]}:${query["status"]}`);
      return true;
    })
    .reply(200, (uri) => {
      const customer = new URL(uri, STRIPE).searchParams.get("customer") ?? "";
      return listOf("/v1/subscriptions", subscriptionsOf[customer] ?? []);
    })
    .get("/v1/prices/price_tokens_eur")
    .query((query) => {
      asked.priceQueries.push(JSON.stringify(query));
      return true;
    })
    .reply(200, euroTieredPrice);
  return { scope, asked };
}

let t: TestApp;

async function seedMirrorAndLedger(): Promise<void> {
  const db = t.db;
  await db.price.createMany({
    data: [
      {
        id: "price_tokens",
        currency: "usd",
        unitAmountDecimal: "0.000381",
        meterId: "mtr_tokens",
        usageType: "metered",
      },
      {
        id: "price_calls",
        currency: "usd",
        unitAmount: 2n,
        unitAmountDecimal: "2",
        meterId: "mtr_calls",
        usageType: "metered",
      },
    ],
  });
  const invoice = (id: string, customerId: string, currency: string, status = "paid") => ({
    id,
    customerId,
    subscriptionId: `sub_${customerId}`,
    status,
    currency,
    periodStart: FROM,
    periodEnd: TO,
    stripeCreated: TO,
  });
  await db.invoice.createMany({
    data: [
      invoice("in_a", "cus_a", "usd"),
      invoice("in_a_draft", "cus_a", "usd", "draft"),
      invoice("in_c", "cus_c", "eur"),
      invoice("in_d", "cus_d", "usd"),
    ],
  });
  const line = (
    id: string,
    invoiceId: string,
    priceId: string,
    quantity: string,
    amount: bigint,
    currency = "usd",
  ) => ({
    id,
    invoiceId,
    priceId,
    quantity,
    amount,
    currency,
    subscriptionItemId: `si_${id}`,
    periodStart: FROM,
    periodEnd: TO,
  });
  await db.invoiceLine.createMany({
    data: [
      // Under-billed: Stripe counted 20,000,000 tokens, the ledger holds 24,104,515.
      line("il_a_tokens", "in_a", "price_tokens", "20000000", 7620n),
      // Matches the ledger: no finding.
      line("il_a_calls", "in_a", "price_calls", "500", 1000n),
      // A draft is not billed yet: ignored even though it disagrees.
      line("il_a_draft_tokens", "in_a_draft", "price_tokens", "1", 1n),
      // A stale mirror copy of in_c (Stripe's copy says 1500).
      line("il_c_tokens", "in_c", "price_tokens_eur", "2001", 500n, "eur"),
      // Matches to the token, at a sub-cent price: no finding.
      line("il_d_tokens", "in_d", "price_tokens", "24104515", 9184n),
    ],
  });
  let n = 0;
  const usage = (customerId: string, feature: string, quantity: string, occurredAt: string) => ({
    usageId: `u_${++n}`,
    customerId,
    feature,
    quantity,
    occurredAt: new Date(occurredAt),
    fingerprint: `fp_${n}`,
  });
  await db.ledgerEntry.createMany({
    data: [
      usage("cus_a", "tokens", "20000000", "2026-11-03T10:00:00Z"),
      usage("cus_a", "tokens", "4104515", "2026-11-30T23:59:59Z"),
      usage("cus_a", "tokens", "999999", "2026-10-31T23:59:59Z"), // before the period
      usage("cus_a", "tokens", "999999", "2026-12-01T00:00:00Z"), // the end is exclusive
      usage("cus_a", "api_calls", "500", "2026-11-10T00:00:00Z"),
      usage("cus_b", "api_calls", "1000", "2026-11-10T00:00:00Z"),
      usage("cus_c", "tokens", "2001", "2026-11-15T00:00:00Z"),
      usage("cus_d", "tokens", "24104515", "2026-11-15T00:00:00Z"),
      usage("cus_x", "tokens", "5000", "2026-11-19T00:00:00Z"), // while still paying
      usage("cus_x", "tokens", "1000000", "2026-11-25T00:00:00Z"), // after the subscription ended
    ],
  });
  await db.entitlement.createMany({
    data: [
      { customerId: "cus_a", feature: "tokens", status: "active", source: "sub_cus_a" },
      { customerId: "cus_x", feature: "tokens", status: "active", source: "sub_cus_x" },
      { customerId: "cus_r", feature: "tokens", status: "revoked", source: "sub_cus_r" },
    ],
  });
}

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  // Flag only: these runs are about finding and storing; revoking what they find is access-enforcement.test.ts's.
  t = await createTestApp({
    extend: (ctx) => ({ ...ctx, catalog, config: { ...ctx.config, enforceOnAudit: "flag" } as Config }),
  });
  await seedMirrorAndLedger();
});

afterEach(() => {
  nock.cleanAll();
});

afterAll(async () => {
  nock.enableNetConnect();
  await t.close();
});

const byKey = (report: Report) =>
  Object.fromEntries(
    report.findings.map((finding) => [
      `${finding.category}:${finding.customer}:${finding.feature}`,
      [finding.expected, finding.actual, finding.amount_minor, finding.currency],
    ]),
  );

describe("runReconciliation", () => {
  let first: { runId: string; report: Report };

  it("finds exactly the injected leakage, exact to the sub-cent, and stores the run", async () => {
    const stripe = fakeStripe();
    const progress: string[] = [];
    first = await runReconciliation(t.ctx, { from: FROM, to: TO, trigger: "cli" }, (line) =>
      progress.push(line),
    );
    expect(stripe.scope.isDone()).toBe(true);
    // Invoices are created when their period ends: the list reaches a billing month past the period.
    expect(stripe.asked.invoiceRanges).toEqual([`${T0}..${T1 + 35 * 86400}`]);
    expect(stripe.asked.subscriptionQueries.sort()).toEqual(["cus_a:all", "cus_x:all"]);
    expect(stripe.asked.priceQueries).toEqual([JSON.stringify({ "expand[0]": "tiers" })]);

    expect(byKey(first.report)).toEqual({
      "billing_mismatch:cus_a:tokens": ["24104515", "20000000", "1563.820215", "usd"],
      "billing_mismatch:cus_b:api_calls": ["1000", "1200", "-400", "usd"],
      "billing_mismatch:cus_c:tokens": ["2001", "1500", "250.5", "eur"],
      "access_not_revoked:cus_x:tokens": ["revoked", "active", "381", "usd"],
    });
    const mismatchA = first.report.findings.find((f) => f.customer === "cus_a")!;
    expect(mismatchA.evidence).toMatchObject({
      invoice: "in_a",
      line: "il_a_tokens",
      period: { from: "2026-11-01T00:00:00Z", to: "2026-12-01T00:00:00Z" },
      subscription: "sub_cus_a",
    });
    const lapse = first.report.findings.find((f) => f.category === "access_not_revoked")!;
    expect(lapse.evidence).toMatchObject({
      subscription: "sub_cus_x",
      usage_after_end: "1000000",
      price: "price_tokens",
    });

    expect(first.report.totals).toEqual([
      {
        currency: "eur",
        leakage_minor: "250.5",
        overbilled_minor: "0",
        findings: 1,
        by_category: { billing_mismatch: { count: 1, amount_minor: "250.5" } },
      },
      {
        currency: "usd",
        leakage_minor: "1944.820215",
        overbilled_minor: "400",
        findings: 3,
        by_category: {
          access_not_revoked: { count: 1, amount_minor: "381" },
          billing_mismatch: { count: 2, amount_minor: "1163.820215" },
        },
      },
    ] satisfies ReportTotals[]);
    expect(first.report.period).toEqual({ from: "2026-11-01T00:00:00Z", to: "2026-12-01T00:00:00Z" });

    const run = await t.db.reconciliationRun.findUniqueOrThrow({ where: { id: first.runId } });
    expect(run).toMatchObject({ status: "completed", trigger: "cli", error: null });
    expect(run.finishedAt).not.toBeNull();
    expect(run.report).toEqual(JSON.parse(JSON.stringify(first.report)));
    expect(await t.db.runFinding.count({ where: { runId: first.runId } })).toBe(4);
    expect(progress.some((line) => line.includes("1 missing from the mirror"))).toBe(true);
  });

  it("run again, with more usage since: the same four findings, updated, never duplicated", async () => {
    const before = await t.db.finding.findMany({ orderBy: { fingerprint: "asc" } });
    await t.db.ledgerEntry.create({
      data: {
        usageId: "u_late",
        customerId: "cus_a",
        feature: "tokens",
        quantity: "1000000",
        occurredAt: new Date("2026-11-29T00:00:00Z"),
        fingerprint: "fp_late",
      },
    });
    const stripe = fakeStripe();
    const second = await runReconciliation(t.ctx, { from: FROM, to: TO, trigger: "schedule" });
    expect(stripe.scope.isDone()).toBe(true);

    const after = await t.db.finding.findMany({ orderBy: { fingerprint: "asc" } });
    expect(after.map((f) => [f.id, f.fingerprint, f.firstSeenAt.getTime()])).toEqual(
      before.map((f) => [f.id, f.fingerprint, f.firstSeenAt.getTime()]),
    );
    const grown = after.find((f) => f.customerId === "cus_a")!;
    expect(grown.amountMinor.toString()).toBe("1944.820215"); // 1,000,000 more tokens = 381 cents more
    expect(grown.expected).toBe("25104515");
    expect(grown.lastSeenAt.getTime()).toBeGreaterThan(
      before.find((f) => f.customerId === "cus_a")!.lastSeenAt.getTime(),
    );
    expect(second.report.findings.map((f) => f.id).sort()).toEqual(
      first.report.findings.map((f) => f.id).sort(),
    );
    expect(await t.db.runFinding.count()).toBe(8);
  });

  it("two runs at once upsert the same findings without a conflict or a duplicate", async () => {
    const stripes = [fakeStripe(), fakeStripe()];
    const runs = await Promise.all([
      runReconciliation(t.ctx, { from: FROM, to: TO, trigger: "schedule" }),
      runReconciliation(t.ctx, { from: FROM, to: TO, trigger: "schedule" }),
    ]);
    expect(stripes.every((stripe) => stripe.scope.isDone())).toBe(true);
    expect(await t.db.finding.count()).toBe(4);
    for (const run of runs) {
      expect(run.report.findings.map((f) => f.id).sort()).toEqual(
        first.report.findings.map((f) => f.id).sort(),
      );
      expect(await t.db.runFinding.count({ where: { runId: run.runId } })).toBe(4);
    }
  });

  it("a failed Stripe read marks the run failed with the reason", async () => {
    nock(STRIPE)
      .get("/v1/billing/meters")
      .query(true)
      .reply(401, {
        error: { type: "invalid_request_error", message: "Invalid API Key provided: sk_test_***" },
      });
    await expect(runReconciliation(t.ctx, { from: FROM, to: TO, trigger: "api" })).rejects.toThrow(
      /Invalid API Key/,
    );
    const failed = await t.db.reconciliationRun.findFirstOrThrow({ where: { trigger: "api" } });
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/Invalid API Key/);
    expect(failed.report).toBeNull();
  });

  it("refuses an empty period before touching anything", async () => {
    const runs = await t.db.reconciliationRun.count();
    await expect(runReconciliation(t.ctx, { from: TO, to: FROM, trigger: "cli" })).rejects.toMatchObject({
      code: "invalid_period",
    });
    expect(await t.db.reconciliationRun.count()).toBe(runs);
  });
});

describe("stored reports", () => {
  it("latest is the last completed run, in all four formats", async () => {
    const latest = await loadReport(t.db, "latest");
    expect(latest.findings).toHaveLength(4);
    expect(JSON.parse(renderReport(latest, "json"))).toEqual(latest);
    const csv = renderReport(latest, "csv").trimEnd().split("\r\n");
    expect(csv).toHaveLength(5);
    expect(csv[0]!.startsWith("id,fingerprint,category,customer,feature,expected,actual,amount_minor")).toBe(
      true,
    );
    expect(renderReport(latest, "md")).toContain(
      "| billing_mismatch | cus_a | tokens | 25104515 | 20000000 | 19.44820215 USD |",
    );
    expect(renderReport(latest, "html")).toContain("<td>access_not_revoked</td><td>cus_x</td>");
  });

  it("GET /v1/reports/latest and /v1/reports/:id serve the JSON; an unknown id is report_not_found", async () => {
    const latest = await t.app.inject({ method: "GET", url: "/v1/reports/latest", headers: t.auth });
    expect(latest.statusCode).toBe(200);
    const body = latest.json() as Report;
    expect(Object.keys(body)).toEqual(["id", "period", "generated_at", "totals", "findings", "webhooks"]);
    expect(Object.keys(body.findings[0]!)).toEqual([
      "id",
      "fingerprint",
      "category",
      "customer",
      "feature",
      "expected",
      "actual",
      "amount_minor",
      "currency",
      "evidence",
      "status",
    ]);
    const byId = await t.app.inject({ method: "GET", url: `/v1/reports/${body.id}`, headers: t.auth });
    expect(byId.json()).toEqual(body);
    const csv = await t.app.inject({
      method: "GET",
      url: `/v1/reports/${body.id}?format=csv`,
      headers: t.auth,
    });
    expect(csv.headers["content-type"]).toMatch(/^text\/csv/);

    const missing = await t.app.inject({ method: "GET", url: "/v1/reports/no-such-run", headers: t.auth });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: "report_not_found" });
    const failed = await t.db.reconciliationRun.findFirstOrThrow({ where: { status: "failed" } });
    const failedReport = await t.app.inject({
      method: "GET",
      url: `/v1/reports/${failed.id}`,
      headers: t.auth,
    });
    expect(failedReport.statusCode).toBe(404);
    expect(failedReport.json().message).toMatch(/failed: .*Invalid API Key/);
    const unauthenticated = await t.app.inject({ method: "GET", url: "/v1/reports/latest" });
    expect(unauthenticated.statusCode).toBe(401);
  });
});
