import { describe, expect, it } from "vitest";
import type { ExpectedFinding } from "../../../src/demo/scenario.js";
import { decideVerdict, formatMoney, type ReportedFinding } from "../../../src/demo/verdict.js";

const expected: ExpectedFinding[] = [
  {
    category: "billing_mismatch",
    stripeCustomerId: "cus_a",
    feature: "tokens",
    currency: "usd",
    amountMinor: "1088.73925",
    locator: "il_1",
    why: "short",
  },
  {
    category: "access_not_revoked",
    stripeCustomerId: "cus_b",
    feature: "api_calls",
    currency: "eur",
    amountMinor: "2990.4",
    locator: "sub_1",
    why: "canceled",
  },
];

const reported = (overrides: Partial<ReportedFinding>[] = [{}, {}]): ReportedFinding[] =>
  [
    {
      category: "billing_mismatch",
      customer: "cus_a",
      feature: "tokens",
      amount_minor: "1088.73925",
      currency: "usd",
    },
    {
      category: "access_not_revoked",
      customer: "cus_b",
      feature: "api_calls",
      amount_minor: "2990.40",
      currency: "eur",
    },
  ].map((finding, index) => ({ ...finding, ...overrides[index] }));

describe("formatMoney", () => {
  it("rounds for people and keeps the exact minor units", () => {
    expect(formatMoney("123456.5", "usd")).toBe("$1,234.57 (123456.5 minor units)");
    expect(formatMoney("2990.4", "eur")).toBe("€29.90 (2990.4 minor units)");
    expect(formatMoney("1500", "jpy")).toBe("¥1,500 (1500 minor units)");
    expect(formatMoney("-250", "usd")).toBe("-$2.50 (-250 minor units)");
    expect(formatMoney("99", "chf")).toBe("0.99 CHF (99 minor units)");
  });
});

describe("decideVerdict", () => {
  it("agrees when every finding matches, whatever the decimal spelling", () => {
    const verdict = decideVerdict(expected, reported());
    expect(verdict.ok).toBe(true);
    expect(verdict.differences).toEqual([]);
    expect(verdict.line).toBe(
      "expected 2 findings worth $10.89 (1088.73925 minor units) + €29.90 (2990.4 minor units), " +
        "found 2 worth $10.89 (1088.73925 minor units) + €29.90 (2990.4 minor units)",
    );
  });

  it("names an amount that differs, a missing finding and an unexpected one", () => {
    const differs = decideVerdict(expected, reported([{ amount_minor: "1088" }, {}]));
    expect(differs.ok).toBe(false);
    expect(differs.differences[0]).toMatch(/^amount differs: billing_mismatch cus_a tokens/);

    const missing = decideVerdict(expected, reported().slice(0, 1));
    expect(missing.ok).toBe(false);
    expect(missing.line).toMatch(/found 1 worth/);
    expect(missing.differences).toEqual([
      "missing: access_not_revoked cus_b api_calls worth €29.90 (2990.4 minor units) (canceled)",
    ]);

    const extra = decideVerdict(expected, [
      ...reported(),
      {
        category: "billing_mismatch",
        customer: "cus_c",
        feature: "tokens",
        amount_minor: "5",
        currency: "usd",
      },
    ]);
    expect(extra.ok).toBe(false);
    expect(extra.differences).toEqual([
      "unexpected: billing_mismatch cus_c tokens worth $0.05 (5 minor units)",
    ]);
  });
});
