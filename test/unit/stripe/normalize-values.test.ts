import { describe, expect, it } from "vitest";
import {
  type Normalized,
  normalizeCharge,
  normalizeCustomer,
  normalizeDispute,
  normalizeInvoice,
  normalizeInvoiceLine,
  normalizePrice,
  normalizeRefund,
  normalizeSubscription,
} from "../../../src/stripe/normalize/index.js";
import {
  aCustomer,
  anInvoice,
  anInvoiceLine,
  aPrice,
  aSubscription,
  type Json,
} from "../../support/builders.js";

/** Counts, amounts, times and decimals in Stripe payloads are checked, not trusted: a bad one refuses the payload. */

const QUANTITY = "a whole number from 0 to 2147483647";
const TIME = "a unix time from 2000-01-01 to 2100-01-01";
const AMOUNT = "a whole, non-negative number of minor units";
const SIGNED_AMOUNT = "a whole number of minor units";
const DECIMAL = "a non-negative decimal string with at most 12 decimal places";

const item = (raw: Json, index = 0) => ((raw["items"] as Json)["data"] as Json[])[index]!;
const line = (raw: Json, index = 0) => ((raw["lines"] as Json)["data"] as Json[])[index]!;

function reasonOf(result: Normalized<unknown>): string {
  if (result.ok) throw new Error("expected the payload to be refused");
  return result.reason;
}

function readValue<T>(result: Normalized<T>): T {
  if (!result.ok) throw new Error(`expected a readable payload: ${result.reason}`);
  return result.value;
}

const aCharge = (): Json => ({
  id: "ch_values",
  object: "charge",
  amount: 2500,
  amount_captured: 2500,
  amount_refunded: 0,
  captured: true,
  currency: "usd",
  customer: "cus_values",
  payment_intent: "pi_values",
  refunded: false,
});
const aRefund = (): Json => ({
  id: "re_values",
  object: "refund",
  amount: 2500,
  charge: "ch_values",
  status: "succeeded",
});
const aDispute = (): Json => ({
  id: "dp_values",
  object: "dispute",
  amount: 2500,
  charge: "ch_values",
  status: "needs_response",
});

describe("a subscription with a value Stripe never sends is refused, naming the field and the value", () => {
  it.each<[string, (raw: Json) => void, string]>([
    [
      "a negative quantity",
      (raw) => (item(raw)["quantity"] = -3),
      `items.data[0].quantity is -3, expected ${QUANTITY}`,
    ],
    [
      "a quantity beyond a safe integer",
      (raw) => (item(raw)["quantity"] = 1e20),
      `items.data[0].quantity is 100000000000000000000, expected ${QUANTITY}`,
    ],
    [
      "a fractional quantity",
      (raw) => (item(raw)["quantity"] = 2.5),
      `items.data[0].quantity is 2.5, expected ${QUANTITY}`,
    ],
    [
      "a quantity as a string",
      (raw) => (item(raw)["quantity"] = "3"),
      `items.data[0].quantity is "3", expected ${QUANTITY}`,
    ],
    [
      "a quantity the mirror cannot hold",
      (raw) => (item(raw)["quantity"] = 2_147_483_648),
      `items.data[0].quantity is 2147483648, expected ${QUANTITY}`,
    ],
    [
      "a negative item period end",
      (raw) => (item(raw)["current_period_end"] = -86_400),
      `items.data[0].current_period_end is -86400, expected ${TIME}`,
    ],
    [
      "an item period end in the year 318,857",
      (raw) => (item(raw)["current_period_end"] = 1e13),
      `items.data[0].current_period_end is 10000000000000, expected ${TIME}`,
    ],
    ["a creation time before 2000", (raw) => (raw["created"] = 1), `created is 1, expected ${TIME}`],
    ["a negative end", (raw) => (raw["ended_at"] = -5), `ended_at is -5, expected ${TIME}`],
    [
      "a fractional cancel time",
      (raw) => (raw["cancel_at"] = 1_767_225_600.5),
      `cancel_at is 1767225600.5, expected ${TIME}`,
    ],
    [
      "a pause that resumes after 2100",
      (raw) => (raw["pause_collection"] = { behavior: "void", resumes_at: 4_200_000_000 }),
      `pause_collection.resumes_at is 4200000000, expected ${TIME}`,
    ],
    [
      "an embedded price with a negative unit amount",
      (raw) => ((item(raw)["price"] as Json)["unit_amount"] = -100),
      `items.data[0].price.unit_amount is -100, expected ${AMOUNT}`,
    ],
    [
      "a second item with a negative quantity",
      (raw) => {
        (raw["items"] as Json)["data"] = [item(raw), { ...item(raw), id: "si_second", quantity: -1 }];
      },
      `items.data[1].quantity is -1, expected ${QUANTITY}`,
    ],
  ])("basil: %s", (_case, edit, problem) => {
    const raw = aSubscription({ id: "sub_values" });
    edit(raw);
    expect(reasonOf(normalizeSubscription(raw))).toBe(`subscription sub_values: ${problem}`);
  });

  it.each<[string, (raw: Json) => void, string]>([
    [
      "a negative period end",
      (raw) => (raw["current_period_end"] = -86_400),
      `current_period_end is -86400, expected ${TIME}`,
    ],
    [
      "a period start of 1e13",
      (raw) => (raw["current_period_start"] = 1e13),
      `current_period_start is 10000000000000, expected ${TIME}`,
    ],
    [
      "a plan-only item whose plan divides usage by zero",
      (raw) => {
        delete item(raw)["price"];
        (item(raw)["plan"] as Json)["transform_usage"] = { divide_by: 0, round: "up" };
      },
      "items.data[0].plan.transform_usage.divide_by is 0, expected a whole number from 1 to 9007199254740991",
    ],
  ])("legacy: %s", (_case, edit, problem) => {
    const raw = aSubscription({ id: "sub_values", shape: "legacy" });
    edit(raw);
    expect(reasonOf(normalizeSubscription(raw))).toBe(`subscription sub_values: ${problem}`);
  });

  it("still reads what Stripe does send: zero and absent quantities, unset times as null or 0, the range's ends", () => {
    const raw = aSubscription({
      items: [{ quantity: 0 }, { quantity: null }, { quantity: 2_147_483_647 }, {}],
      created: Date.UTC(2000, 0, 1) / 1000,
      currentPeriodEnd: Date.UTC(2100, 0, 1) / 1000,
    });
    delete item(raw, 3)["quantity"];
    raw["cancel_at"] = 0;
    raw["canceled_at"] = null;
    delete raw["ended_at"];
    const subscription = readValue(normalizeSubscription(raw));
    expect(subscription.items.map((entry) => entry.quantity)).toEqual([0, null, 2_147_483_647, null]);
    expect(subscription).toMatchObject({
      cancelAt: null,
      canceledAt: null,
      endedAt: null,
      stripeCreated: new Date("2000-01-01T00:00:00Z"),
      currentPeriodEnd: new Date("2100-01-01T00:00:00Z"),
    });
  });

  it("reads 0 as unset only where Stripe sends null for unset, never for a creation or period time", () => {
    const raw = aSubscription({ id: "sub_values" });
    raw["canceled_at"] = 0;
    expect(readValue(normalizeSubscription(raw)).canceledAt).toBeNull();
    raw["created"] = 0;
    expect(reasonOf(normalizeSubscription(raw))).toBe(
      `subscription sub_values: created is 0, expected ${TIME}`,
    );
  });
});

describe("an invoice: amounts may be negative only where Stripe credits", () => {
  it("reads a credit invoice: a negative total and negative (proration) lines with a negative unit amount", () => {
    const raw = anInvoice({
      subscription: "sub_values",
      lines: [
        { amount: 1000, quantity: 1 },
        { amount: -250, quantity: 1, proration: true },
      ],
      total: -750,
      amountDue: 0,
    });
    (line(raw, 1)["pricing"] as Json)["unit_amount_decimal"] = "-250.5";
    const invoice = readValue(normalizeInvoice(raw));
    expect(invoice.totalMinor).toBe(-750n);
    expect(invoice.lines.map((entry) => [entry.amountMinor, entry.unitAmountDecimal])).toEqual([
      [1000n, "1000"],
      [-250n, "-250.5"],
    ]);
  });

  it("reads a legacy invoice item credit whose inline price is negative", () => {
    const raw = anInvoice({
      shape: "legacy",
      lines: [{ amount: -500, price: { unitAmount: -500 } }],
      amountDue: 0,
      total: -500,
    });
    delete line(raw)["plan"];
    expect(readValue(normalizeInvoice(raw)).lines[0]).toMatchObject({
      amountMinor: -500n,
      unitAmountDecimal: "-500",
    });
  });

  it("reads a quantity_decimal with 12 places", () => {
    const raw = anInvoice({ lines: [{ quantityDecimal: "1.123456789012" }] });
    expect(readValue(normalizeInvoice(raw)).lines[0]!.quantity).toBe("1.123456789012");
  });

  it.each<[string, (raw: Json) => void, string]>([
    ["a negative amount due", (raw) => (raw["amount_due"] = -1), `amount_due is -1, expected ${AMOUNT}`],
    [
      "a fractional amount paid",
      (raw) => (raw["amount_paid"] = 1.5),
      `amount_paid is 1.5, expected ${AMOUNT}`,
    ],
    [
      "a total beyond a safe integer",
      (raw) => (raw["total"] = 2 ** 60),
      `total is 1152921504606847000, expected ${SIGNED_AMOUNT}`,
    ],
    [
      "a period start before 2000",
      (raw) => (raw["period_start"] = -1),
      `period_start is -1, expected ${TIME}`,
    ],
    [
      "a creation time of 1e13",
      (raw) => (raw["created"] = 1e13),
      `created is 10000000000000, expected ${TIME}`,
    ],
    [
      "a fractional line amount",
      (raw) => (line(raw)["amount"] = 99.5),
      `lines.data[0].amount is 99.5, expected ${SIGNED_AMOUNT}`,
    ],
    [
      "a negative line quantity",
      (raw) => (line(raw)["quantity"] = -1),
      `lines.data[0].quantity is -1, expected ${DECIMAL}`,
    ],
    [
      "a negative quantity_decimal",
      (raw) => (line(raw)["quantity_decimal"] = "-1.5"),
      `lines.data[0].quantity_decimal is "-1.5", expected ${DECIMAL}`,
    ],
    [
      "a quantity_decimal with 13 places",
      (raw) => (line(raw)["quantity_decimal"] = "1.1234567890123"),
      `lines.data[0].quantity_decimal is "1.1234567890123", expected ${DECIMAL}`,
    ],
    [
      "a quantity_decimal in exponent notation",
      (raw) => (line(raw)["quantity_decimal"] = "1e3"),
      `lines.data[0].quantity_decimal is "1e3", expected ${DECIMAL}`,
    ],
    [
      "a line period ending in 1e13",
      (raw) => ((line(raw)["period"] as Json)["end"] = 1e13),
      `lines.data[0].period.end is 10000000000000, expected ${TIME}`,
    ],
    [
      "a line unit amount that is not a decimal",
      (raw) => ((line(raw)["pricing"] as Json)["unit_amount_decimal"] = "12,5"),
      `lines.data[0].pricing.unit_amount_decimal is "12,5", expected a decimal string with at most 12 decimal places`,
    ],
  ])("refuses %s", (_case, edit, problem) => {
    const raw = anInvoice({ id: "in_values", subscription: "sub_values" });
    edit(raw);
    expect(reasonOf(normalizeInvoice(raw))).toBe(`invoice in_values: ${problem}`);
  });

  it("refuses a line listed on its own with the line named", () => {
    const raw = anInvoiceLine({ id: "il_values" });
    raw["amount"] = "100";
    expect(reasonOf(normalizeInvoiceLine(raw, "usd"))).toBe(
      `invoice line il_values: amount is "100", expected ${SIGNED_AMOUNT}`,
    );
  });
});

describe("a price: amounts, tiers and transforms are never negative", () => {
  it.each<[string, (raw: Json) => void, string]>([
    ["a negative unit amount", (raw) => (raw["unit_amount"] = -1), `unit_amount is -1, expected ${AMOUNT}`],
    [
      "a negative decimal unit amount",
      (raw) => (raw["unit_amount_decimal"] = "-0.5"),
      `unit_amount_decimal is "-0.5", expected ${DECIMAL}`,
    ],
    [
      "a tier bound of 0",
      (raw) => (raw["tiers"] = [{ up_to: 0, unit_amount_decimal: "1" }]),
      "tiers[0].up_to is 0, expected a whole number from 1 to 9007199254740991",
    ],
    [
      "a negative tier amount",
      (raw) =>
        (raw["tiers"] = [
          { up_to: 10, unit_amount_decimal: "1" },
          { up_to: null, unit_amount_decimal: "-1" },
        ]),
      `tiers[1].unit_amount_decimal is "-1", expected ${DECIMAL}`,
    ],
    [
      "a package that divides by zero",
      (raw) => (raw["transform_quantity"] = { divide_by: 0, round: "up" }),
      "transform_quantity.divide_by is 0, expected a whole number from 1 to 9007199254740991",
    ],
  ])("refuses %s", (_case, edit, problem) => {
    const raw = aPrice({ id: "price_values" });
    edit(raw);
    expect(reasonOf(normalizePrice(raw))).toBe(`price price_values: ${problem}`);
  });

  it('reads the last tier\'s open bound (null, or "inf" as requests spell it)', () => {
    const raw = aPrice({
      tiers: [
        { up_to: 10, unit_amount_decimal: "2" },
        { up_to: null, unit_amount_decimal: "1" },
      ],
    });
    (raw["tiers"] as Json[])[1]!["up_to"] = "inf";
    expect(readValue(normalizePrice(raw)).tiers?.map((tier) => tier.upTo)).toEqual([10, null]);
  });
});

describe("charges, refunds and disputes: amounts are never negative", () => {
  it.each<[string, () => Normalized<unknown>, string]>([
    [
      "a negative charge amount",
      () => normalizeCharge({ ...aCharge(), amount: -2500 }),
      `charge ch_values: amount is -2500, expected ${AMOUNT}`,
    ],
    [
      "a refunded amount beyond a safe integer",
      () => normalizeCharge({ ...aCharge(), amount_refunded: 1e20 }),
      `charge ch_values: amount_refunded is 100000000000000000000, expected ${AMOUNT}`,
    ],
    [
      "a fractional captured amount",
      () => normalizeCharge({ ...aCharge(), amount_captured: 2.5 }),
      `charge ch_values: amount_captured is 2.5, expected ${AMOUNT}`,
    ],
    [
      "a negative refund",
      () => normalizeRefund({ ...aRefund(), amount: -1 }),
      `refund re_values: amount is -1, expected ${AMOUNT}`,
    ],
    [
      "a refund embedding a charge with a negative amount",
      () => normalizeRefund({ ...aRefund(), charge: { ...aCharge(), amount: -1 } }),
      `refund re_values: charge.amount is -1, expected ${AMOUNT}`,
    ],
    [
      "a negative dispute",
      () => normalizeDispute({ ...aDispute(), amount: -2500 }),
      `dispute dp_values: amount is -2500, expected ${AMOUNT}`,
    ],
  ])("refuses %s", (_case, normalize, reason) => {
    expect(reasonOf(normalize())).toBe(reason);
  });
});

describe("a customer", () => {
  it("is refused with a creation time outside 2000..2100", () => {
    expect(reasonOf(normalizeCustomer(aCustomer({ id: "cus_values", created: -1 })))).toBe(
      `customer cus_values: created is -1, expected ${TIME}`,
    );
  });
});
