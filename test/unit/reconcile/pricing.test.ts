import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DomainError } from "../../../src/errors.js";
import { Dec, formatMinor, toMinorString } from "../../../src/reconcile/money.js";
import { type PriceTerms, type PriceTier, priceQuantity } from "../../../src/reconcile/pricing.js";

function perUnit(unitAmountDecimal: string, extra: Partial<PriceTerms> = {}): PriceTerms {
  return {
    id: "price_unit",
    currency: "usd",
    billingScheme: "per_unit",
    unitAmountDecimal,
    tiersMode: null,
    tiers: [],
    transformQuantity: null,
    ...extra,
  };
}

function tiered(tiersMode: "graduated" | "volume", tiers: PriceTier[], currency = "usd"): PriceTerms {
  return {
    id: `price_${tiersMode}`,
    currency,
    billingScheme: "tiered",
    unitAmountDecimal: null,
    tiersMode,
    tiers,
    transformQuantity: null,
  };
}

const tier = (
  upTo: string | null,
  unitAmountDecimal: string | null,
  flatAmountDecimal: string | null = null,
) => ({
  upTo,
  unitAmountDecimal,
  flatAmountDecimal,
});

function priced(price: PriceTerms, quantity: string) {
  const result = priceQuantity(price, quantity);
  return { exact: toMinorString(result.exactMinor), billed: toMinorString(result.billedMinor) };
}

describe("priceQuantity: per unit", () => {
  it.each([
    // [unit_amount_decimal, quantity, exact minor units, billed minor units]
    ["0.000381", "24104515", "9183.820215", "9184"], // 24104515 × 381 = 9183820215 millionths of a cent
    ["0.05", "30", "1.5", "2"], // Stripe's own example: 1.5 cents rounds up to 2
    ["0.5", "5", "2.5", "3"], // half-up, not banker's rounding (which would give 2)
    ["0.05", "29", "1.45", "1"],
    ["1250", "3", "3750", "3750"],
    ["0.000000000001", "1", "0.000000000001", "0"],
    ["0.2", "1.000000000001", "0.2000000000002", "0"],
    ["105.5", "0", "0", "0"],
  ])("unit %s × quantity %s = %s, billed %s", (unit, quantity, exact, billed) => {
    expect(priced(perUnit(unit), quantity)).toEqual({ exact, billed });
  });

  it("applies transform_quantity before the unit amount, rounding packages up or down", () => {
    const up = perUnit("500", { transformQuantity: { divideBy: 1000, round: "up" } });
    const down = perUnit("500", { transformQuantity: { divideBy: 1000, round: "down" } });
    expect(priced(up, "1001")).toEqual({ exact: "1000", billed: "1000" });
    expect(priced(down, "1001")).toEqual({ exact: "500", billed: "500" });
    expect(priced(up, "1000")).toEqual({ exact: "500", billed: "500" });
    expect(priced(down, "999")).toEqual({ exact: "0", billed: "0" });
    expect(priceQuantity(up, "2500").billableQuantity.toFixed()).toBe("3");
  });

  it("prices a zero-decimal currency in its own unit (yen, not hundredths of a yen)", () => {
    const yen = perUnit("0.3", { currency: "jpy" });
    expect(priced(yen, "1001")).toEqual({ exact: "300.3", billed: "300" });
    expect(formatMinor("300", "jpy")).toBe("300 JPY");
    expect(formatMinor("918380", "usd")).toBe("9183.80 USD");
    expect(formatMinor("9183.820215", "usd")).toBe("91.83820215 USD");
    expect(formatMinor("1500", "kwd")).toBe("1.500 KWD");
  });

  it("refuses a negative quantity and a price without an amount", () => {
    expect(() => priceQuantity(perUnit("1"), "-1")).toThrow(DomainError);
    expect(() => priceQuantity(perUnit("1", { unitAmountDecimal: null }), "1")).toThrow(/no unit amount/);
    expect(() => priceQuantity(tiered("graduated", []), "1")).toThrow(/no tiers/);
  });
});

describe("priceQuantity: tiered", () => {
  const graduated = tiered("graduated", [
    tier(null, "0.25", "100"), // listed out of order on purpose: the last tier is the unbounded one
    tier("1000", "0"),
    tier("10000", "0.5"),
  ]);

  it.each([
    ["0", "0", "0"],
    ["1000", "0", "0"],
    ["1000.5", "0.25", "0"],
    ["1001", "0.5", "1"],
    ["10000", "4500", "4500"],
    ["12000", "5100", "5100"], // 9000 × 0.5 + 2000 × 0.25 + flat 100
  ])("graduated: quantity %s = %s, billed %s", (quantity, exact, billed) => {
    expect(priced(graduated, quantity)).toEqual({ exact, billed });
  });

  it("bills the first tier's flat fee even without usage", () => {
    const baseFee = tiered("graduated", [tier("1000", "0", "20000"), tier(null, "4")]);
    expect(priced(baseFee, "0")).toEqual({ exact: "20000", billed: "20000" });
    expect(priced(baseFee, "1001")).toEqual({ exact: "20004", billed: "20004" });
  });

  const volume = tiered("volume", [tier("100", "10"), tier(null, "8", "50")]);
  it.each([
    ["0", "0"],
    ["100", "1000"],
    ["101", "858"], // all 101 units at the second tier's 8, plus its flat 50
    ["250.5", "2054"],
  ])("volume: quantity %s = %s", (quantity, exact) => {
    expect(priced(volume, quantity).exact).toBe(exact);
  });

  it("prices sub-cent tier amounts exactly and rounds once per line", () => {
    const tokens = tiered("graduated", [tier("1000000", "0.0002"), tier(null, "0.00015", "0.4")]);
    // 1,000,000 × 0.0002 = 200; 1,333,333 × 0.00015 = 199.99995; + 0.4
    expect(priced(tokens, "2333333")).toEqual({ exact: "400.39995", billed: "400" });
  });
});

const decimalString = (maxCoefficient: bigint, maxScale: number) =>
  fc
    .tuple(fc.bigInt({ min: 0n, max: maxCoefficient }), fc.integer({ min: 0, max: maxScale }))
    .map(([coefficient, scale]) => new Dec(coefficient.toString()).div(new Dec(10).pow(scale)).toFixed());

const tiersArbitrary = fc
  .tuple(
    fc.uniqueArray(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 0, maxLength: 4 }),
    fc.array(fc.tuple(decimalString(10n ** 8n, 6), fc.option(decimalString(10n ** 6n, 2))), {
      minLength: 5,
      maxLength: 5,
    }),
  )
  .map(([bounds, amounts]) => {
    const upTos = [...bounds.sort((a, b) => a - b).map(String), null];
    return upTos.map((upTo, index) => tier(upTo, amounts[index]![0], amounts[index]![1]));
  });

const quantityArbitrary = decimalString(10n ** 14n, 6);

describe("priceQuantity: properties", () => {
  it("graduated prices are never negative and never fall as the quantity grows", () => {
    fc.assert(
      fc.property(tiersArbitrary, quantityArbitrary, quantityArbitrary, (tiers, a, b) => {
        const price = tiered("graduated", tiers);
        const [low, high] = new Dec(a).lte(b) ? [a, b] : [b, a];
        const lowPrice = priceQuantity(price, low);
        const highPrice = priceQuantity(price, high);
        expect(lowPrice.exactMinor.gte(0)).toBe(true);
        expect(lowPrice.exactMinor.lte(highPrice.exactMinor)).toBe(true);
        expect(lowPrice.billedMinor.lte(highPrice.billedMinor)).toBe(true);
      }),
    );
  });

  it("one unbounded tier prices the same graduated or volume, and the same as per unit plus a flat fee", () => {
    fc.assert(
      fc.property(
        decimalString(10n ** 10n, 12),
        decimalString(10n ** 6n, 2),
        quantityArbitrary,
        (unit, flat, q) => {
          const single = [tier(null, unit, flat)];
          const graduatedPrice = priceQuantity(tiered("graduated", single), q);
          const volumePrice = priceQuantity(tiered("volume", single), q);
          expect(graduatedPrice.exactMinor.eq(volumePrice.exactMinor)).toBe(true);
          const perUnitPrice = priceQuantity(perUnit(unit), q);
          expect(graduatedPrice.exactMinor.eq(perUnitPrice.exactMinor.add(flat))).toBe(true);
        },
      ),
    );
  });

  it("the billed amount is a whole minor unit within half a unit of the exact amount", () => {
    fc.assert(
      fc.property(decimalString(10n ** 10n, 12), quantityArbitrary, (unit, q) => {
        const { exactMinor, billedMinor } = priceQuantity(perUnit(unit), q);
        expect(billedMinor.isInteger()).toBe(true);
        expect(billedMinor.sub(exactMinor).abs().lte("0.5")).toBe(true);
        if (exactMinor.sub(exactMinor.floor()).eq("0.5"))
          expect(billedMinor.eq(exactMinor.ceil())).toBe(true);
      }),
    );
  });

  it("package pricing equals per-unit pricing of the rounded package count", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.constantFrom("up", "down" as const),
        quantityArbitrary,
        (divideBy, round, q) => {
          const packaged = priceQuantity(perUnit("7", { transformQuantity: { divideBy, round } }), q);
          const divided = new Dec(q).div(divideBy);
          const packages = round === "up" ? divided.ceil() : divided.floor();
          expect(packaged.exactMinor.eq(packages.mul(7))).toBe(true);
        },
      ),
    );
  });
});
