import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  aCustomer,
  aMeter,
  anEvent,
  anInvoice,
  aPrice,
  aProduct,
  aSubscription,
} from "../../../src/demo/stripe-objects.js";
import type { StripeObject } from "../../../src/demo/stripe-params.js";
import { type StripeStandIn, startStripeStandIn } from "../../../src/demo/stripe-stand-in.js";
import { createStripe, type StripeClient } from "../../../src/stripe/client.js";

const T0 = 1_790_000_000;
const NOW = T0 + 40 * 86400;

const meter = aMeter({ id: "mtr_tokens", eventName: "llm_tokens", displayName: "Tokens", created: T0 });
const tokenPrice = aPrice({
  id: "price_tokens",
  product: "prod_ai",
  currency: "usd",
  created: T0,
  nickname: "tokens",
  unitAmountDecimal: "0.0004",
  meter: meter.id,
});
const tieredPrice: StripeObject = {
  ...aPrice({
    id: "price_tiered",
    product: "prod_ai",
    currency: "usd",
    created: T0 + 1,
    nickname: "tiered",
    unitAmountDecimal: "0",
  }),
  billing_scheme: "tiered",
  tiers_mode: "graduated",
  unit_amount: null,
  unit_amount_decimal: null,
  tiers: [
    {
      up_to: 1000,
      unit_amount: null,
      unit_amount_decimal: "0.5",
      flat_amount: null,
      flat_amount_decimal: null,
    },
    {
      up_to: null,
      unit_amount: null,
      unit_amount_decimal: "0.25",
      flat_amount: null,
      flat_amount_decimal: null,
    },
  ],
};

const customers = Array.from({ length: 250 }, (_, index) =>
  aCustomer({
    id: `cus_${String(index).padStart(4, "0")}`,
    // Pairs share a `created` second, so ordering ties are exercised too.
    created: T0 + Math.floor(index / 2),
    email: `c${index}@example.com`,
    name: `Customer ${index}`,
    metadata: { user_id: `user_${index}` },
  }),
);

const subscription = (id: string, customer: string, status: "active" | "canceled", created: number) =>
  aSubscription({
    id,
    customer,
    currency: "usd",
    created,
    status,
    currentPeriodStart: T0,
    currentPeriodEnd: T0 + 30 * 86400,
    items: [{ id: `si_${id.slice(4)}`, price: tokenPrice }],
    ...(status === "canceled" ? { canceledAt: T0 + 86400, endedAt: T0 + 86400 } : {}),
  });

const invoice = (id: string, customer: string, sub: string, created: number, lineCount: number) =>
  anInvoice({
    id,
    customer,
    customerEmail: "c@example.com",
    customerName: "C",
    subscription: sub,
    currency: "usd",
    created,
    status: "paid",
    billingReason: "subscription_cycle",
    periodStart: T0,
    periodEnd: T0 + 30 * 86400,
    number: id.toUpperCase(),
    finalizedAt: created,
    paidAt: created,
    lines: Array.from({ length: lineCount }, (_, index) => ({
      id: `il_${id.slice(3)}_${index}`,
      subscription: sub,
      subscriptionItem: `si_${sub.slice(4)}`,
      price: tokenPrice,
      quantity: String(1000 * (index + 1)),
      amount: Math.round(0.4 * (index + 1)),
      periodStart: T0,
      periodEnd: T0 + 30 * 86400,
      description: "tokens",
    })),
  });

let standIn: StripeStandIn;
let stripe: StripeClient;

beforeAll(async () => {
  standIn = await startStripeStandIn(
    {
      customers,
      products: [aProduct({ id: "prod_ai", name: "AI", created: T0 })],
      prices: [tokenPrice, tieredPrice],
      meters: [meter],
      subscriptions: [
        subscription("sub_a", "cus_0001", "active", T0 + 10),
        subscription("sub_b", "cus_0002", "canceled", T0 + 20),
        subscription("sub_c", "cus_0001", "active", T0 + 30),
      ],
      invoices: [
        invoice("in_early", "cus_0001", "sub_a", T0 + 100, 2),
        invoice("in_late", "cus_0001", "sub_c", T0 + 5000, 12),
        invoice("in_other", "cus_0002", "sub_b", T0 + 3000, 1),
      ],
      events: [
        anEvent({ id: "evt_1", type: "customer.created", created: T0 + 1, object: customers[1]! }),
        anEvent({
          id: "evt_2",
          type: "invoice.paid",
          created: T0 + 2,
          object: { id: "in_early", object: "invoice" },
        }),
        anEvent({
          id: "evt_3",
          type: "invoice.finalized",
          created: T0 + 3,
          object: { id: "in_early", object: "invoice" },
        }),
      ],
    },
    { now: () => NOW },
  );
  stripe = createStripe("sk_test_stand_in", standIn.url);
});

afterAll(async () => {
  await standIn.close();
});

describe("Stripe stand-in through the real SDK", () => {
  it("auto-paginates 250 customers newest first, each exactly once", async () => {
    const seen: string[] = [];
    for await (const customer of stripe.customers.list({ limit: 100 })) seen.push(customer.id);
    expect(seen).toHaveLength(250);
    expect(new Set(seen).size).toBe(250);
    expect(seen[0]).toBe("cus_0249");
    expect(seen.at(-1)).toBe("cus_0000");
    const lists = standIn.requests().filter((request) => request.path === "/v1/customers");
    expect(lists).toHaveLength(3);
  });

  it("pages with the default limit of 10 and walks back with ending_before", async () => {
    const first = await stripe.customers.list();
    expect(first.data).toHaveLength(10);
    expect(first.has_more).toBe(true);
    expect(first.object).toBe("list");
    expect(first.url).toBe("/v1/customers");
    const second = await stripe.customers.list({ starting_after: first.data.at(-1)!.id });
    const back = await stripe.customers.list({ ending_before: second.data[0]!.id });
    expect(back.data.map((c) => c.id)).toEqual(first.data.map((c) => c.id));
    expect(back.has_more).toBe(false);
  });

  it("rejects a limit above 100 the way Stripe does", async () => {
    await expect(stripe.customers.list({ limit: 101 })).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
      statusCode: 400,
      param: "limit",
    });
  });

  it("retrieves a customer with its metadata and answers 404 resource_missing for an unknown one", async () => {
    const customer = await stripe.customers.retrieve("cus_0007");
    expect(customer).toMatchObject({ id: "cus_0007", metadata: { user_id: "user_7" } });
    await expect(stripe.customers.retrieve("cus_nope")).rejects.toMatchObject({
      statusCode: 404,
      code: "resource_missing",
    });
  });

  it("lists subscriptions: non-canceled by default, canceled included with status=all", async () => {
    const byDefault = await stripe.subscriptions.list();
    expect(byDefault.data.map((s) => s.id)).toEqual(["sub_c", "sub_a"]);
    const all = await stripe.subscriptions.list({ status: "all" });
    expect(all.data.map((s) => s.id)).toEqual(["sub_c", "sub_b", "sub_a"]);
    const canceled = await stripe.subscriptions.list({ status: "canceled" });
    expect(canceled.data.map((s) => s.id)).toEqual(["sub_b"]);
    const forCustomer = await stripe.subscriptions.list({ customer: "cus_0002", status: "all" });
    expect(forCustomer.data.map((s) => s.id)).toEqual(["sub_b"]);
    const retrieved = await stripe.subscriptions.retrieve("sub_b");
    expect(retrieved.status).toBe("canceled");
    expect(retrieved.items.data[0]!.current_period_end).toBe(T0 + 30 * 86400);
  });

  it("filters invoices by customer, subscription, status and created range", async () => {
    const forCustomer = await stripe.invoices.list({ customer: "cus_0001" });
    expect(forCustomer.data.map((i) => i.id)).toEqual(["in_late", "in_early"]);
    const forSubscription = await stripe.invoices.list({ subscription: "sub_b" });
    expect(forSubscription.data.map((i) => i.id)).toEqual(["in_other"]);
    const inRange = await stripe.invoices.list({ created: { gte: T0 + 100, lt: T0 + 5000 } });
    expect(inRange.data.map((i) => i.id)).toEqual(["in_other", "in_early"]);
    const drafts = await stripe.invoices.list({ status: "draft" });
    expect(drafts.data).toEqual([]);
  });

  it("embeds the first 10 lines and pages the rest through /lines", async () => {
    const retrieved = await stripe.invoices.retrieve("in_late");
    expect(retrieved.lines.data).toHaveLength(10);
    expect(retrieved.lines.has_more).toBe(true);
    expect(retrieved.parent?.subscription_details?.subscription).toBe("sub_c");
    const lines: string[] = [];
    for await (const line of stripe.invoices.listLineItems("in_late", { limit: 5 })) {
      expect(line.parent?.subscription_item_details?.subscription_item).toBe("si_c");
      expect(line.pricing?.price_details?.price).toBe("price_tokens");
      lines.push(line.id);
    }
    expect(lines).toHaveLength(12);
    expect(lines[0]).toBe("il_late_0");
  });

  it("returns a price's tiers only when expanded", async () => {
    const plain = (await stripe.prices.retrieve("price_tiered")) as unknown as Record<string, unknown>;
    expect(plain["tiers"]).toBeUndefined();
    const expanded = await stripe.prices.retrieve("price_tiered", { expand: ["tiers"] });
    expect(expanded.tiers).toHaveLength(2);
    expect(String(expanded.tiers![1]!.unit_amount_decimal)).toBe("0.25");
    const metered = await stripe.prices.retrieve("price_tokens");
    expect(metered.recurring?.meter).toBe("mtr_tokens");
    expect(metered.unit_amount).toBeNull();
    expect(String(metered.unit_amount_decimal)).toBe("0.0004");
  });

  it("lists meters and events with type and created filters", async () => {
    const meters = await stripe.billing.meters.list();
    expect(meters.data.map((m) => m.event_name)).toEqual(["llm_tokens"]);
    const invoiceEvents = await stripe.events.list({ type: "invoice.*" });
    expect(invoiceEvents.data.map((e) => e.id)).toEqual(["evt_3", "evt_2"]);
    const since = await stripe.events.list({ created: { gte: T0 + 2 } });
    expect(since.data.map((e) => e.id)).toEqual(["evt_3", "evt_2"]);
    const typed = await stripe.events.list({ types: ["customer.created", "invoice.paid"] });
    expect(typed.data.map((e) => e.id)).toEqual(["evt_2", "evt_1"]);
  });

  it("records meter events once per identifier and rejects a duplicate identifier with a 400", async () => {
    const payload = { stripe_customer_id: "cus_0001", value: "1200" };
    const created = await stripe.billing.meterEvents.create({
      event_name: "llm_tokens",
      identifier: "usage_1",
      payload,
      timestamp: NOW - 3600,
    });
    expect(created).toMatchObject({ object: "billing.meter_event", identifier: "usage_1", payload });
    await expect(
      stripe.billing.meterEvents.create({
        event_name: "llm_tokens",
        identifier: "usage_1",
        payload,
        timestamp: NOW - 3600,
      }),
    ).rejects.toMatchObject({ statusCode: 400, param: "identifier" });
    expect(standIn.meterEvents().filter((event) => event.identifier === "usage_1")).toHaveLength(1);

    const summaries = await stripe.billing.meters.listEventSummaries("mtr_tokens", {
      customer: "cus_0001",
      start_time: NOW - 7200,
      end_time: NOW,
    });
    expect(summaries.data[0]!.aggregated_value).toBe(1200);
  });

  it("replays a retried POST with the same Idempotency-Key instead of recording it twice", async () => {
    const params = {
      event_name: "llm_tokens",
      identifier: "usage_retry",
      payload: { stripe_customer_id: "cus_0002", value: "5" },
      timestamp: NOW - 60,
    };
    const first = await stripe.billing.meterEvents.create(params, { idempotencyKey: "idem_1" });
    const second = await stripe.billing.meterEvents.create(params, { idempotencyKey: "idem_1" });
    expect(second).toEqual(first);
    expect(standIn.meterEvents().filter((event) => event.identifier === "usage_retry")).toHaveLength(1);
  });

  it("rejects meter events older than 35 days", async () => {
    await expect(
      stripe.billing.meterEvents.create({
        event_name: "llm_tokens",
        payload: { stripe_customer_id: "cus_0001", value: "1" },
        timestamp: NOW - 36 * 86400,
      }),
    ).rejects.toMatchObject({ statusCode: 400, param: "timestamp" });
  });

  it("answers an unknown route with Stripe's 404 error body", async () => {
    const response = await fetch(`${standIn.url}/v1/nothing_here`, {
      headers: { authorization: "Bearer sk_test_x" },
    });
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.message).toContain("Unrecognized request URL (GET: /v1/nothing_here)");
  });

  it("refuses a request without an API key", async () => {
    const response = await fetch(`${standIn.url}/v1/customers`);
    expect(response.status).toBe(401);
  });
});
