import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { anInvoice, aPrice, aSubscription } from "../../../src/demo/stripe-objects.js";
import type { StripeObject } from "../../../src/demo/stripe-params.js";
import { mapConcurrently } from "../../../src/map-concurrently.js";
import { createStripe } from "../../../src/stripe/client.js";
import { fetchInvoicesCreated, fetchPrice, fetchSubscriptionsOf } from "../../../src/stripe/fetchers.js";

const STRIPE = "https://api.stripe.com";
const stripe = createStripe("sk_test_fetchers");
const T0 = Date.UTC(2026, 10, 1) / 1000;
const T1 = Date.UTC(2026, 11, 1) / 1000;

const price = aPrice({
  id: "price_tokens",
  product: "prod_ai",
  currency: "usd",
  created: T0,
  nickname: "Tokens",
  unitAmountDecimal: "0.000381",
  meter: "mtr_tokens",
});

function invoice(id: string, lineCount: number): StripeObject {
  return anInvoice({
    id,
    customer: "cus_1",
    customerEmail: "a@example.com",
    customerName: "A",
    subscription: "sub_1",
    currency: "usd",
    created: T1,
    status: "paid",
    billingReason: "subscription_cycle",
    periodStart: T0,
    periodEnd: T1,
    number: id,
    finalizedAt: T1,
    paidAt: T1,
    lines: Array.from({ length: lineCount }, (_, index) => ({
      id: `il_${id}_${index}`,
      subscription: "sub_1",
      subscriptionItem: "si_1",
      price,
      quantity: `${index + 1}000000.5`,
      amount: 381 * (index + 1),
      periodStart: T0,
      periodEnd: T1,
      description: `line ${index}`,
    })),
  });
}

/** Stripe embeds at most the first 10 lines; the rest are on /v1/invoices/:id/lines. */
function truncated(full: StripeObject): StripeObject {
  const lines = full["lines"] as { data: StripeObject[] };
  return { ...full, lines: { ...lines, data: lines.data.slice(0, 10), has_more: true } };
}

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
});
afterAll(() => {
  nock.enableNetConnect();
});

describe("Stripe fetchers", () => {
  it("walks every page of invoices and every line of an invoice whose embedded lines were cut", async () => {
    const big = invoice("in_big", 12);
    const scope = nock(STRIPE)
      .get("/v1/invoices")
      .query({ "created[gte]": String(T0), "created[lt]": String(T1), limit: "100" })
      .reply(200, { object: "list", data: [invoice("in_1", 1)], has_more: true, url: "/v1/invoices" })
      .get("/v1/invoices")
      .query({ "created[gte]": String(T0), "created[lt]": String(T1), limit: "100", starting_after: "in_1" })
      .reply(200, { object: "list", data: [truncated(big)], has_more: false, url: "/v1/invoices" })
      .get("/v1/invoices/in_big/lines")
      .query({ limit: "100" })
      .reply(200, { ...(big["lines"] as object), has_more: false });

    const { invoices, unreadable } = await fetchInvoicesCreated(stripe, {
      from: new Date(T0 * 1000),
      to: new Date(T1 * 1000),
    });
    expect(scope.isDone()).toBe(true);
    expect(unreadable).toEqual([]);
    expect(invoices.map((i) => [i.stripeInvoiceId, i.lines.length, i.linesComplete])).toEqual([
      ["in_1", 1, true],
      ["in_big", 12, true],
    ]);
    // Decimal quantities and sub-cent unit amounts survive the SDK's Decimal objects exactly.
    expect(invoices[1]!.lines[11]).toMatchObject({
      stripeInvoiceLineId: "il_in_big_11",
      stripePriceId: "price_tokens",
      quantity: "12000000.5",
      unitAmountDecimal: "0.000381",
      amountMinor: 4572n,
    });
  });

  it("reads ended subscriptions (status=all) and lists items past the embedded page", async () => {
    const subscription = aSubscription({
      id: "sub_1",
      customer: "cus_1",
      currency: "usd",
      created: T0,
      status: "canceled",
      canceledAt: T0 + 3600,
      endedAt: T0 + 3600,
      currentPeriodStart: T0,
      currentPeriodEnd: T0 + 3600,
      items: [{ id: "si_1", price }],
    });
    const items = subscription["items"] as { data: StripeObject[] };
    const scope = nock(STRIPE)
      .get("/v1/subscriptions")
      .query({ customer: "cus_1", status: "all", limit: "100" })
      .reply(200, {
        object: "list",
        data: [{ ...subscription, items: { ...items, has_more: true } }],
        has_more: false,
        url: "/v1/subscriptions",
      })
      .get("/v1/subscription_items")
      .query({ subscription: "sub_1", limit: "100" })
      .reply(200, {
        object: "list",
        data: [...items.data, { ...items.data[0]!, id: "si_2" }],
        has_more: false,
        url: "/v1/subscription_items",
      });
    const [read] = await fetchSubscriptionsOf(stripe, "cus_1");
    expect(scope.isDone()).toBe(true);
    expect(read).toMatchObject({
      stripeSubscriptionId: "sub_1",
      status: "canceled",
      endedAt: new Date((T0 + 3600) * 1000),
      itemsComplete: true,
    });
    expect(read!.items.map((item) => [item.stripeSubscriptionItemId, item.stripePriceId])).toEqual([
      ["si_1", "price_tokens"],
      ["si_2", "price_tokens"],
    ]);
  });

  it("retrieves a price with its tiers, and null for a price Stripe does not know", async () => {
    const tiered = {
      ...price,
      id: "price_tiered",
      billing_scheme: "tiered",
      tiers_mode: "volume",
      unit_amount_decimal: null,
      tiers: [
        {
          up_to: 100,
          unit_amount: 10,
          unit_amount_decimal: "10",
          flat_amount: null,
          flat_amount_decimal: null,
        },
        {
          up_to: null,
          unit_amount: null,
          unit_amount_decimal: "7.5",
          flat_amount: 50,
          flat_amount_decimal: "50",
        },
      ],
    };
    nock(STRIPE)
      .get("/v1/prices/price_tiered")
      .query({ "expand[0]": "tiers" })
      .reply(200, tiered)
      .get("/v1/prices/price_gone")
      .query(true)
      .reply(404, {
        error: { type: "invalid_request_error", code: "resource_missing", message: "No such price" },
      });
    expect(await fetchPrice(stripe, "price_tiered")).toMatchObject({
      stripePriceId: "price_tiered",
      billingScheme: "tiered",
      tiersMode: "volume",
      tiers: [
        { upTo: 100, unitAmountDecimal: "10", flatAmountDecimal: null },
        { upTo: null, unitAmountDecimal: "7.5", flatAmountDecimal: "50" },
      ],
    });
    expect(await fetchPrice(stripe, "price_gone")).toBeNull();
  });

  it("mapConcurrently keeps order and never runs more than the limit at once", async () => {
    let running = 0;
    let peak = 0;
    const results = await mapConcurrently([5, 1, 4, 2, 3, 0], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, n * 3));
      running--;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBe(2);
  });
});
