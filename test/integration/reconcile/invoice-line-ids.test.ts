import nock from "nock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../../../src/config/config.js";
import { aMeter, anInvoice, aPrice } from "../../../src/demo/stripe-objects.js";
import type { StripeObject } from "../../../src/demo/stripe-params.js";
import { parseCatalog } from "../../../src/entitlements/catalog.js";
import { runReconciliation } from "../../../src/reconcile/run-reconciliation.js";
import { createTestApp, type TestApp } from "../../support/app.js";

const STRIPE = "https://api.stripe.com";
const FROM = new Date("2026-11-01T00:00:00Z");
const TO = new Date("2026-12-01T00:00:00Z");
const T0 = Math.floor(FROM.getTime() / 1000);
const T1 = Math.floor(TO.getTime() / 1000);

const catalog = parseCatalog(
  { features: { tokens: { type: "metered", stripe_meter_event_name: "llm_tokens" } }, plans: [] },
  "line-ids-test-catalog",
);
const meter = aMeter({ id: "mtr_tokens", eventName: "llm_tokens", displayName: "Tokens", created: T0 });
const price = aPrice({
  id: "price_tokens",
  product: "prod_tokens",
  currency: "usd",
  created: T0,
  nickname: "Tokens",
  unitAmountDecimal: "1",
  meter: "mtr_tokens",
});
// Before API version 2019-12-03 a subscription line's id was the subscription's own id, on every invoice.
const OLD_LINE_ID = "sub_cus_old";
const invoice = anInvoice({
  id: "in_old",
  customer: "cus_old",
  customerEmail: "cus_old@example.com",
  customerName: "cus_old",
  subscription: "sub_cus_old",
  currency: "usd",
  created: T1,
  status: "paid",
  billingReason: "subscription_cycle",
  periodStart: T0,
  periodEnd: T1,
  number: "IN_OLD",
  lines: [
    {
      id: OLD_LINE_ID,
      subscription: "sub_cus_old",
      subscriptionItem: "si_old_tokens",
      price,
      quantity: "100",
      amount: 100,
      periodStart: T0,
      periodEnd: T1,
      description: "tokens",
    },
  ],
  finalizedAt: T1,
  paidAt: T1,
});

const listOf = (url: string, data: StripeObject[]) => ({ object: "list", data, has_more: false, url });

function fakeStripe(invoices: StripeObject[]) {
  return nock(STRIPE)
    .get("/v1/billing/meters")
    .query(true)
    .reply(200, listOf("/v1/billing/meters", [meter]))
    .get("/v1/invoices")
    .query(true)
    .reply(200, listOf("/v1/invoices", invoices))
    .get("/v1/prices/price_tokens")
    .query(true)
    .optionally()
    .reply(200, price);
}

let t: TestApp;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  t = await createTestApp({
    extend: (ctx) => ({ ...ctx, catalog, config: { ...ctx.config, enforceOnAudit: "flag" } as Config }),
  });
  await t.db.ledgerEntry.create({
    data: {
      usageId: "u_old",
      customerId: "cus_old",
      feature: "tokens",
      quantity: "150",
      occurredAt: new Date("2026-11-10T00:00:00Z"),
      fingerprint: "fp_old",
    },
  });
});

afterAll(async () => {
  nock.cleanAll();
  nock.enableNetConnect();
  await t.close();
});

describe("invoice line ids of old API versions", () => {
  it("a finding names Stripe's line id, and is one finding whether the invoice came from Stripe's list or the mirror", async () => {
    const listed = fakeStripe([invoice]);
    const first = await runReconciliation(t.ctx, { from: FROM, to: TO, trigger: "cli" });
    expect(listed.isDone()).toBe(true);
    // The mirror keeps such a line unique by its invoice.
    expect(await t.db.invoiceLine.count({ where: { id: `in_old:${OLD_LINE_ID}` } })).toBe(1);

    // The next night Stripe's list no longer has it (created outside the window): the mirror alone speaks for it.
    const mirrorOnly = fakeStripe([]);
    const second = await runReconciliation(t.ctx, { from: FROM, to: TO, trigger: "cli" });
    expect(mirrorOnly.isDone()).toBe(true);

    for (const { report } of [first, second]) {
      expect(report.findings).toHaveLength(1);
      expect(report.findings[0]).toMatchObject({
        category: "billing_mismatch",
        customer: "cus_old",
        expected: "150",
        actual: "100",
        evidence: { invoice: "in_old", line: OLD_LINE_ID },
      });
    }
    expect(second.report.findings[0]!.fingerprint).toBe(first.report.findings[0]!.fingerprint);
    expect(await t.db.finding.count()).toBe(1);
  });
});
