import { describe, expect, it } from "vitest";
import { checkBillingMismatch, findMeteredLines } from "../../../src/reconcile/checks/billing-mismatch.js";
import { type UsageWindow, usageWindowKey } from "../../../src/reconcile/usage-windows.js";
import {
  API_CALLS,
  aLine,
  anInvoice,
  aPrice,
  DEC_1,
  METERS,
  NOV_1,
  pricesOf,
  SEATS_BY_PRICE,
  TOKENS,
} from "./builders.js";

const features = [TOKENS, API_CALLS, SEATS_BY_PRICE];
const tokensPrice = aPrice();
const callsPrice = aPrice({
  id: "price_calls",
  meterId: "mtr_calls",
  unitAmountDecimal: "2",
  productId: "prod_calls",
});

function usage(entries: Array<[UsageWindow, string]>) {
  return new Map(entries.map(([window, total]) => [usageWindowKey(window), total]));
}

const tokensWindow: UsageWindow = { customerId: "cus_a", feature: "tokens", from: NOV_1, to: DEC_1 };

describe("findMeteredLines", () => {
  it("maps lines to features by the meter's event name or an explicit stripe_price, skipping the rest", () => {
    const invoice = anInvoice({
      lines: [
        aLine(),
        aLine({ id: "il_calls", priceId: "price_calls" }),
        aLine({ id: "il_seats", priceId: "price_seats" }),
        aLine({ id: "il_base", priceId: "price_base_fee" }),
        aLine({ id: "il_none", priceId: null }),
        aLine({ id: "il_proration", proration: true }),
      ],
    });
    const lines = findMeteredLines({
      invoices: [invoice],
      prices: pricesOf(tokensPrice, callsPrice, aPrice({ id: "price_base_fee", meterId: null })),
      meterEventNames: METERS,
      features,
    });
    expect(lines.map((line) => [line.line.id, line.feature])).toEqual([
      ["il_tokens", "tokens"],
      ["il_calls", "api_calls"],
      ["il_seats", "seats"],
    ]);
    expect(lines[0]!.window).toEqual(tokensWindow);
  });

  it("ignores draft, void and deleted invoices", () => {
    const input = {
      invoices: [
        anInvoice({ id: "in_draft", status: "draft" }),
        anInvoice({ id: "in_void", status: "void" }),
        anInvoice({ id: "in_deleted", status: "deleted" }),
      ],
      prices: pricesOf(tokensPrice),
      meterEventNames: METERS,
      features,
    };
    expect(findMeteredLines(input)).toEqual([]);
  });
});

describe("checkBillingMismatch", () => {
  const base = { prices: pricesOf(tokensPrice, callsPrice), meterEventNames: METERS, features };

  it("reports nothing when the invoiced quantity equals the ledger's", () => {
    const findings = checkBillingMismatch({
      ...base,
      invoices: [anInvoice()],
      usage: usage([[tokensWindow, "24104515"]]),
    });
    expect(findings).toEqual([]);
  });

  it("under-billing: the ledger's quantity at the line's sub-cent price minus what was billed, exactly", () => {
    // Stripe billed 20,000,000 tokens (7620 cents) but the ledger holds 24,104,515 (9183.820215 cents).
    const invoice = anInvoice({ lines: [aLine({ quantity: "20000000", amountMinor: "7620" })] });
    const [finding, ...rest] = checkBillingMismatch({
      ...base,
      invoices: [invoice],
      usage: usage([[tokensWindow, "24104515"]]),
    });
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      category: "billing_mismatch",
      customerId: "cus_a",
      feature: "tokens",
      expected: "24104515",
      actual: "20000000",
      amountMinor: "1563.820215",
      currency: "usd",
      evidence: {
        invoice: "in_1",
        line: "il_tokens",
        period: {
          from: NOV_1.toISOString().replace(".000Z", "Z"),
          to: DEC_1.toISOString().replace(".000Z", "Z"),
        },
        subscription: "sub_a",
        subscription_item: "si_tokens",
        price: "price_tokens",
        billed_minor: "7620",
        expected_minor: "9183.820215",
      },
    });
    expect(finding!.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it("over-billing is a negative amount", () => {
    const invoice = anInvoice({
      lines: [aLine({ id: "il_calls", priceId: "price_calls", quantity: "150", amountMinor: "300" })],
    });
    const findings = checkBillingMismatch({
      ...base,
      invoices: [invoice],
      usage: usage([[{ ...tokensWindow, feature: "api_calls" }, "120"]]),
    });
    expect(findings.map((f) => [f.expected, f.actual, f.amountMinor])).toEqual([["120", "150", "-60"]]);
  });

  it("prices tiered lines on the price's tiers and falls back to the line's unit amount for an unknown price", () => {
    const tiered = aPrice({
      billingScheme: "tiered",
      tiersMode: "graduated",
      unitAmountDecimal: null,
      tiers: [
        { upTo: "1000", unitAmountDecimal: "0", flatAmountDecimal: null },
        { upTo: null, unitAmountDecimal: "0.5", flatAmountDecimal: null },
      ],
    });
    const findings = checkBillingMismatch({
      ...base,
      prices: pricesOf(tiered),
      invoices: [
        anInvoice({ lines: [aLine({ quantity: "1500", amountMinor: "250" })] }),
        anInvoice({
          id: "in_2",
          customerId: "cus_b",
          lines: [
            aLine({
              id: "il_seats",
              priceId: "price_seats",
              quantity: "3",
              amountMinor: "3000",
              unitAmountDecimal: "1000",
            }),
          ],
        }),
      ],
      usage: usage([
        [tokensWindow, "2001"],
        [{ customerId: "cus_b", feature: "seats", from: NOV_1, to: DEC_1 }, "4"],
      ]),
    });
    expect(findings.map((f) => [f.feature, f.amountMinor])).toEqual([
      ["tokens", "250.5"], // 1001 × 0.5 = 500.5 expected, 250 billed
      ["seats", "1000"],
    ]);
  });

  it("keeps one fingerprint per invoice line whatever the amounts", () => {
    const run = (ledger: string) =>
      checkBillingMismatch({
        ...base,
        invoices: [anInvoice({ lines: [aLine({ quantity: "1" })] })],
        usage: usage([[tokensWindow, ledger]]),
      })[0]!;
    const night1 = run("100");
    const night2 = run("250");
    expect(night1.fingerprint).toBe(night2.fingerprint);
    expect(night1.amountMinor).not.toBe(night2.amountMinor);
    const other = checkBillingMismatch({
      ...base,
      invoices: [anInvoice({ id: "in_other", lines: [aLine({ quantity: "1" })] })],
      usage: usage([[tokensWindow, "100"]]),
    })[0]!;
    expect(other.fingerprint).not.toBe(night1.fingerprint);
  });

  it("fails loudly when the loader did not load a window's usage", () => {
    expect(() => checkBillingMismatch({ ...base, invoices: [anInvoice()], usage: new Map() })).toThrow(
      /not loaded/,
    );
  });
});
