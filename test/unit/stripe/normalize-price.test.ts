import { describe, expect, it } from "vitest";
import { normalizePrice } from "../../../src/stripe/normalize/index.js";
import { aPrice, type Json, stripeFixture } from "../../support/builders.js";

describe("normalizePrice", () => {
  it("reads a 2026 price (stripe-mock)", () => {
    expect(normalizePrice(stripeFixture("objects/2026-07-29.dahlia__price__stripe-openapi.json"))).toEqual({
      ok: true,
      value: {
        stripePriceId: "price_1PgafmB7WZ01zgkW6dKueIc5",
        stripeProductId: "prod_QXg1hqf4jFNsqG",
        currency: "usd",
        unitAmountMinor: 2000n,
        unitAmountDecimal: "2000",
        billingScheme: "per_unit",
        tiersMode: null,
        tiers: null,
        transformQuantity: { divideBy: 1592560163, round: "down" },
        recurringInterval: "month",
        usageType: "licensed",
        stripeMeterId: null,
        lookupKey: null,
        active: true,
      },
    });
  });

  it("reads a legacy plan as a price", () => {
    expect(normalizePrice(stripeFixture("objects/pre-2020-08-27__plan__dj-stripe.json"))).toMatchObject({
      ok: true,
      value: {
        stripePriceId: "gold21323",
        stripeProductId: "prod_fake1",
        unitAmountMinor: 2000n,
        unitAmountDecimal: "2000",
        recurringInterval: "month",
        usageType: "licensed",
      },
    });
  });

  it("keeps a sub-cent price as a decimal string with no whole unit amount", () => {
    const result = normalizePrice(
      aPrice({ unitAmount: null, unitAmountDecimal: "0.000381", usageType: "metered" }),
    );
    expect(result).toMatchObject({
      ok: true,
      value: { unitAmountMinor: null, unitAmountDecimal: "0.000381" },
    });
  });

  it("reads a metered basil price's meter", () => {
    const result = normalizePrice(
      aPrice({ usageType: "metered", meter: "mtr_tokens", lookupKey: "tokens_monthly" }),
    );
    expect(result).toMatchObject({
      ok: true,
      value: { usageType: "metered", stripeMeterId: "mtr_tokens", lookupKey: "tokens_monthly" },
    });
  });

  it("reads expanded tiers, the last one unbounded", () => {
    const result = normalizePrice(
      aPrice({
        billingScheme: "tiered",
        tiersMode: "graduated",
        unitAmount: null,
        tiers: [
          { up_to: 1000, unit_amount_decimal: "0.5", flat_amount_decimal: "100" },
          { up_to: null, unit_amount_decimal: "0.25" },
        ],
      }),
    );
    expect(result).toMatchObject({
      ok: true,
      value: {
        billingScheme: "tiered",
        tiersMode: "graduated",
        tiers: [
          { upTo: 1000, unitAmountDecimal: "0.5", flatAmountDecimal: "100" },
          { upTo: null, unitAmountDecimal: "0.25", flatAmountDecimal: null },
        ],
      },
    });
  });

  it("reads a tiered price without expanded tiers as 'tiers unknown'", () => {
    const result = normalizePrice(aPrice({ billingScheme: "tiered", tiersMode: "volume", unitAmount: null }));
    expect(result).toMatchObject({ ok: true, value: { tiers: null, unitAmountDecimal: null } });
  });

  it("never reads a fractional JSON number as a decimal amount: the price is refused naming it", () => {
    const raw = aPrice({ unitAmount: null });
    raw["unit_amount_decimal"] = 0.1;
    expect(normalizePrice(raw)).toEqual({
      ok: false,
      reason: `price ${raw["id"]}: unit_amount_decimal is 0.1, expected a non-negative decimal string with at most 12 decimal places`,
    });
  });

  it.each([
    ["no currency", (raw: Json) => delete raw["currency"], /has no currency/],
    ["no id", (raw: Json) => delete raw["id"], /price has no id/],
    ["a tier that is not an object", (raw: Json) => (raw["tiers"] = ["lots"]), /tiers that cannot be read/],
    [
      "a tier bound that is not a count",
      (raw: Json) => (raw["tiers"] = [{ up_to: "lots" }]),
      /tiers\[0\]\.up_to is "lots"/,
    ],
    ["another object", (raw: Json) => (raw["object"] = "product"), /not a price/],
  ])("refuses a price with %s", (_case, edit, reason) => {
    const raw = aPrice();
    edit(raw);
    const result = normalizePrice(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});
