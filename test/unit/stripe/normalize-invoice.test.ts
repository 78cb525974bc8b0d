import { describe, expect, it } from "vitest";
import { normalizeInvoice, normalizeInvoiceLine } from "../../../src/stripe/normalize/index.js";
import type { InvoiceSnapshot } from "../../../src/stripe/normalize/types.js";
import {
  anInvoice,
  anInvoiceLine,
  aPrice,
  type Json,
  objectOf,
  stripeFixture,
  stripeFixtureNames,
} from "../../support/builders.js";

const at = (seconds: number) => new Date(seconds * 1000);

function read(raw: unknown): InvoiceSnapshot {
  const result = normalizeInvoice(raw);
  if (!result.ok) throw new Error(`expected a readable invoice: ${result.reason}`);
  return result.value;
}

const invoiceFixtures: [string, Json][] = [
  ...stripeFixtureNames("objects")
    .filter((name) => name.includes("__invoice__"))
    .map((name): [string, Json] => [name, stripeFixture(`objects/${name}`)]),
  ...stripeFixtureNames("events")
    .filter((name) => /__invoice\.[a-z_]+__/.test(name))
    .map((name): [string, Json] => [name, objectOf(stripeFixture(`events/${name}`))]),
];
const withId = invoiceFixtures.filter(([, raw]) => typeof raw["id"] === "string");
const upcoming = invoiceFixtures.filter(([, raw]) => raw["id"] === undefined || raw["id"] === null);

describe("normalizeInvoice over the real payloads", () => {
  it("has invoice fixtures of both shapes, and upcoming ones without an id", () => {
    expect(withId.some(([, raw]) => "parent" in raw && raw["parent"] !== null)).toBe(true);
    expect(withId.some(([, raw]) => !("parent" in raw))).toBe(true);
    expect(upcoming.length).toBeGreaterThan(0);
  });

  it.each(withId)("%s reads with all its lines", (_name, raw) => {
    const invoice = read(raw);
    expect(invoice.stripeInvoiceId).toBe(raw["id"]);
    expect(invoice.lines).toHaveLength(((raw["lines"] as Json)["data"] as unknown[]).length);
    for (const line of invoice.lines) expect(line.currency).toBe(invoice.currency);
  });

  it.each(upcoming)("%s is refused: an upcoming invoice has no id", (_name, raw) => {
    expect(normalizeInvoice(raw)).toEqual({
      ok: false,
      reason: "invoice has no id (an upcoming invoice is not a real invoice)",
    });
  });

  it("reads a pre-basil invoice: subscription link, subscription item and price on the line", () => {
    const invoice = read(objectOf(stripeFixture("events/2020-03-02__invoice.paid__stripe-sync-engine.json")));
    expect(invoice).toMatchObject({
      stripeInvoiceId: "in_1KJqKBJDPojXS6LNJbvLUgEy",
      stripeCustomerId: "cus_JsuO3bmrj0QlAw",
      stripeSubscriptionId: "sub_JsuPyCPhXWfZar",
      status: "paid",
      currency: "usd",
      totalMinor: 0n,
      amountDueMinor: 0n,
      amountPaidMinor: 0n,
      periodStart: at(1639966880),
      periodEnd: at(1642645280),
      billingReason: "subscription_cycle",
      stripeCreated: at(1642645471),
      linesComplete: true,
    });
    expect(invoice.lines[0]).toEqual({
      stripeInvoiceLineId: "il_1KJqKBJDPojXS6LND42vdxtT",
      stripeSubscriptionItemId: "si_JsuPFzrp9vSWxa",
      stripePriceId: "price_1IDQm5JDPojXS6LNM31hxKzp",
      stripeProductId: "prod_Ip4vqwv3EJ7Mi0",
      quantity: "1",
      amountMinor: 0n,
      unitAmountDecimal: "0",
      currency: "usd",
      periodStart: at(1642645280),
      periodEnd: at(1645323680),
      proration: false,
      description: "1 × Free tier (at $0.00 / month)",
    });
  });

  it("reads a basil invoice: link under parent, price under pricing, item under the line's parent", () => {
    const invoice = read(stripeFixture("objects/hybrid-2025__invoice__pay.json"));
    expect(invoice.stripeSubscriptionId).toBe("sub_1234");
    expect(invoice.lines[0]).toMatchObject({
      stripeSubscriptionItemId: "si_1234",
      stripePriceId: "price_1234",
      stripeProductId: "prod_1234",
      unitAmountDecimal: "24900",
      amountMinor: 24900n,
    });
  });

  it("keeps a sub-cent unit amount and a large metered quantity exact", () => {
    const invoice = read(
      stripeFixture("objects/hybrid-2025__invoice__pay__metered-unit_amount_decimal.json"),
    );
    expect(invoice.lines[0]).toMatchObject({
      quantity: "24104515",
      unitAmountDecimal: "0.000381",
      amountMinor: 9184n,
      stripeSubscriptionItemId: "si_1234",
    });
    expect(invoice.amountDueMinor).toBe(9184n);
  });

  it("reads a one-off basil invoice (parent null) as linked to no subscription", () => {
    const invoice = read(stripeFixture("objects/hybrid-2025__invoice__pay__manual-discounts.json"));
    expect(invoice.stripeSubscriptionId).toBeNull();
    expect(invoice.lines.map((line) => [line.stripePriceId, line.quantity, line.amountMinor])).toEqual([
      ["price_1KOpJJKXBGcbgpbZyDoF66XQ", "6", 17400n],
      ["price_1KOpJJKXBGcbgpbZyDoF66XQ", "3", 8700n],
    ]);
    expect(invoice.lines.every((line) => line.stripeSubscriptionItemId === null)).toBe(true);
  });

  it("links the legacy and the basil rendering of one invoice to the same subscription and lines", () => {
    const price = aPrice({
      id: "price_tokens",
      product: "prod_tokens",
      unitAmount: null,
      unitAmountDecimal: "0.25",
    });
    const input = {
      id: "in_same",
      customer: "cus_same",
      subscription: "sub_same",
      lines: [
        { id: "il_same", price, quantity: 400, amount: 100, subscriptionItem: "si_same", proration: true },
      ],
    };
    const legacy = read(anInvoice({ ...input, shape: "legacy" }));
    const basil = read(anInvoice({ ...input, shape: "basil" }));
    expect(basil).toEqual(legacy);
    expect(basil.stripeSubscriptionId).toBe("sub_same");
    expect(basil.lines[0]).toMatchObject({
      stripeSubscriptionItemId: "si_same",
      stripePriceId: "price_tokens",
      stripeProductId: "prod_tokens",
      unitAmountDecimal: "0.25",
      quantity: "400",
      proration: true,
    });
  });

  it("reads an expanded subscription and customer on a pre-basil invoice", () => {
    const raw = anInvoice({ shape: "legacy", subscription: "sub_expanded", customer: "cus_expanded" });
    raw["subscription"] = { id: "sub_expanded", object: "subscription", status: "active" };
    raw["customer"] = { id: "cus_expanded", object: "customer" };
    expect(read(raw)).toMatchObject({
      stripeSubscriptionId: "sub_expanded",
      stripeCustomerId: "cus_expanded",
    });
  });

  it("prefers quantity_decimal over quantity", () => {
    const line = normalizeInvoiceLine(
      anInvoiceLine({ quantity: 1, quantityDecimal: "1.5", amount: 150 }),
      "usd",
    );
    expect(line.ok && line.value.quantity).toBe("1.5");
  });

  it("reads the 2026 line shape (quantity_decimal null, subtotal) from stripe-mock", () => {
    const line = normalizeInvoiceLine(
      stripeFixture("objects/2026-07-29.dahlia__line_item__stripe-openapi.json"),
      "usd",
    );
    expect(line).toMatchObject({
      ok: true,
      value: { stripeInvoiceLineId: "il_tmp_1Pgc6sB7WZ01zgkWrG16hkdl", quantity: "1" },
    });
  });

  it("marks a truncated lines list as incomplete", () => {
    expect(read(anInvoice({ linesHaveMore: true })).linesComplete).toBe(false);
  });

  it.each([
    ["no customer", (raw: Json) => (raw["customer"] = null), /has no customer/],
    ["no currency", (raw: Json) => delete raw["currency"], /has no currency/],
    ["no total", (raw: Json) => delete raw["total"], /has no total/],
    ["a float total", (raw: Json) => (raw["total"] = 10.5), /: total is 10\.5, expected a whole number/],
    [
      "a line without an amount",
      (raw: Json) => delete ((raw["lines"] as Json)["data"] as Json[])[0]!["amount"],
      /line 0: .* has no amount/,
    ],
  ])("refuses an invoice with %s, with a reason", (_case, edit, reason) => {
    const raw = anInvoice({ subscription: "sub_x" });
    edit(raw);
    const result = normalizeInvoice(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});
