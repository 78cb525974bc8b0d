import { Decimal } from "decimal.js";
import { describe, expect, it } from "vitest";
import { DEMO_PLANS, type DemoScenario, generateScenario } from "../../../src/demo/scenario.js";
import type { StripeObject } from "../../../src/demo/stripe-params.js";

const PERIOD_END = new Date("2026-11-30T00:00:00Z");

type Line = {
  id: string;
  quantity: number;
  amount: number;
  period: { start: number; end: number };
  pricing: { unit_amount_decimal: string; price_details: { price: string } };
};

const linesOf = (invoice: StripeObject) => (invoice["lines"] as { data: Line[] }).data;

describe("generateScenario", () => {
  it("is the same world for the same seed and a different one for another seed", () => {
    const a = generateScenario({ seed: 11, periodEnd: PERIOD_END });
    const b = generateScenario({ seed: 11, periodEnd: PERIOD_END });
    const c = generateScenario({ seed: 12, periodEnd: PERIOD_END });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(c.customers.map((customer) => customer.stripeCustomerId)).not.toEqual(
      a.customers.map((customer) => customer.stripeCustomerId),
    );
  });

  it("matches a hand-worked tiny scenario: one under-billed customer short on both lines, one unnoticed cancellation", () => {
    const scenario = generateScenario({
      seed: 7,
      periodEnd: PERIOD_END,
      customers: 3,
      underBilled: 1,
      canceledUnnoticed: 1,
      canceled: 0,
      secondCurrency: false,
    });
    // Worked by hand from the usage and invoice lines the seed produces:
    //   scale tokens:    11,770,957 used x 0.00025 = 2942.73925; billed 7,415,703 -> 1853.92575 rounds to 1854
    //   scale api_calls: 43,225 used x 0.1 = 4322.5; billed 26,368 -> 2636.8 rounds to 2637
    //   starter, canceled 2026-11-18: 6,843,216 tokens after x 0.0004 = 2737.2864; 14,952 calls after x 0.2 = 2990.4
    expect(
      scenario.expected.findings.map(({ category, feature, amountMinor }) => [
        category,
        feature,
        amountMinor,
      ]),
    ).toEqual([
      ["billing_mismatch", "tokens", "1088.73925"],
      ["billing_mismatch", "api_calls", "1685.5"],
      ["access_not_revoked", "tokens", "2737.2864"],
      ["access_not_revoked", "api_calls", "2990.4"],
    ]);
    expect(scenario.expected.totals).toEqual({ usd: "8501.92565" });
    expect(scenario.undelivered.map((event) => event["type"])).toEqual(["customer.subscription.deleted"]);
  });

  it("expects exactly the lines that bill less than the ledger window holds, priced independently", () => {
    const scenario = generateScenario({ seed: 2026, periodEnd: PERIOD_END });
    expect(recomputeBillingMismatches(scenario)).toEqual(
      scenario.expected.findings
        .filter((finding) => finding.category === "billing_mismatch")
        .map((finding) => ({ line: finding.locator, amountMinor: finding.amountMinor }))
        .sort((x, y) => x.line.localeCompare(y.line)),
    );
    const underBilled = scenario.customers.filter((customer) => customer.fate === "under_billed");
    expect(new Set(underBilled.map((customer) => customer.plan)).size).toBeGreaterThan(1);
    expect(Object.keys(scenario.expected.totals).sort()).toEqual(["eur", "usd"]);
  });

  it("keeps every usage record an hour inside its window and never after the period", () => {
    const scenario = generateScenario({ seed: 5, periodEnd: PERIOD_END });
    const byApiId = new Map(scenario.customers.map((customer) => [customer.apiId, customer]));
    const from = scenario.period.from.getTime();
    const to = scenario.period.to.getTime();
    for (const record of scenario.usage) {
      const at = new Date(record.timestamp).getTime();
      expect(at).toBeGreaterThanOrEqual(from + 3_600_000);
      expect(at).toBeLessThanOrEqual(to - 3_600_000);
      const canceledAt = byApiId.get(record.customer)!.canceledAt?.getTime();
      if (canceledAt !== undefined) expect(Math.abs(at - canceledAt)).toBeGreaterThanOrEqual(3_600_000);
    }
    expect(new Set(scenario.usage.map((record) => record.usage_id)).size).toBe(scenario.usage.length);
    expect(
      scenario.retriedUsageIds.every((id) => scenario.usage.some((record) => record.usage_id === id)),
    ).toBe(true);
  });

  it("leaves only the unnoticed cancellations undelivered, while Stripe shows them canceled", () => {
    const scenario = generateScenario({ seed: 9, periodEnd: PERIOD_END });
    const unnoticed = scenario.customers.filter((customer) => customer.fate === "canceled_unnoticed");
    expect(
      scenario.undelivered.map((event) => (event["data"] as { object: StripeObject }).object.id).sort(),
    ).toEqual(unnoticed.map((customer) => customer.subscriptionId).sort());
    for (const customer of unnoticed) {
      const subscription = scenario.stripe.subscriptions!.find((s) => s.id === customer.subscriptionId)!;
      expect(subscription["status"]).toBe("canceled");
    }
    const ids = [...scenario.webhooks, ...scenario.undelivered].map((event) => event.id);
    expect(new Set(ids).size).toBe(ids.length);
    const created = scenario.webhooks.map((event) => event["created"] as number);
    expect(created).toEqual([...created].sort((x, y) => x - y));
    expect(Math.max(...created) * 1000).toBeLessThan(scenario.reconcile.to.getTime());
  });

  it("answers the entitlement question for an active, a canceled and an unnoticed-canceled customer", () => {
    const scenario = generateScenario({ seed: 3, periodEnd: PERIOD_END });
    expect(scenario.entitlementChecks.map((check) => check.hasAccess)).toEqual([true, false, true]);
  });
});

/** billing_mismatch worked out from the raw objects: ledger window sum vs line quantity, exact minus billed. */
function recomputeBillingMismatches(scenario: DemoScenario): { line: string; amountMinor: string }[] {
  const stripeIdOf = new Map(
    scenario.customers.map((customer) => [customer.apiId, customer.stripeCustomerId]),
  );
  const featureOfPrice = new Map<string, string>();
  for (const plan of Object.values(DEMO_PLANS)) {
    featureOfPrice.set(plan.usagePrices.tokens.id, "tokens");
    featureOfPrice.set(plan.usagePrices.api_calls.id, "api_calls");
  }
  const found: { line: string; amountMinor: string }[] = [];
  for (const invoice of scenario.stripe.invoices!) {
    for (const line of linesOf(invoice)) {
      const feature = featureOfPrice.get(line.pricing.price_details.price);
      if (feature === undefined) continue;
      const used = scenario.usage
        .filter(
          (record) =>
            stripeIdOf.get(record.customer) === invoice["customer"] &&
            record.feature === feature &&
            new Date(record.timestamp).getTime() >= line.period.start * 1000 &&
            new Date(record.timestamp).getTime() < line.period.end * 1000,
        )
        .reduce((sum, record) => sum.plus(record.quantity), new Decimal(0));
      if (used.eq(line.quantity)) continue;
      const exact = used.mul(line.pricing.unit_amount_decimal);
      found.push({ line: line.id, amountMinor: exact.minus(line.amount).toFixed() });
    }
  }
  return found.sort((x, y) => x.line.localeCompare(y.line));
}
