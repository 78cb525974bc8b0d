import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aCustomer, stripeId } from "../../support/builders.js";
import {
  aCustomerSubscription,
  byEvent,
  createScenarios,
  DAY,
  eventAt,
  nowSeconds,
  PRO_FEATURES,
  proPrice,
  rowsFor,
  type Scenarios,
  SHAPES,
} from "./scenario-harness.js";

let scenarios: Scenarios;
beforeAll(async () => {
  scenarios = await createScenarios();
});
afterAll(async () => scenarios?.close());

type Call = { method: "GET" | "POST"; url: string; payload?: object };

const callsFor = (customer: string, feature: string): Call[] => [
  { method: "GET", url: `/v1/customers/${customer}/entitlements/${feature}` },
  { method: "POST", url: "/v1/check", payload: { customer: decodeURIComponent(customer), feature } },
];

async function send(call: Call) {
  return scenarios.app.inject({ ...call, headers: scenarios.auth });
}

describe.each(SHAPES)("unknown customer or feature, %s API shape", (shape) => {
  /** A Pro subscriber known only through signed webhooks, with the product's own id in the metadata. */
  async function subscriber() {
    const now = nowSeconds();
    const sub = aCustomerSubscription(shape, {
      created: now - 10 * DAY,
      items: [{ id: stripeId("si"), price: proPrice(shape) }],
    });
    const userId = `user_${sub.customer}`;
    const customerCreated = eventAt(
      "customer.created",
      aCustomer({ id: sub.customer, metadata: { user_id: userId } }),
      now - 120,
    );
    const created = eventAt("customer.subscription.created", sub.snapshot(), now - 60);
    await scenarios.deliver(customerCreated, created);
    return { ...sub, userId, created };
  }

  it("an unknown customer is a 404 naming it, on every access route, never a 500", async () => {
    const { customer, created } = await subscriber();
    for (const unknown of ["cus_nobody", "user_nobody", "cus_", encodeURIComponent("o'brien %_"), "ü"]) {
      for (const call of [
        ...callsFor(unknown, "reports"),
        { method: "GET" as const, url: `/v1/customers/${unknown}/entitlements` },
        { method: "GET" as const, url: `/v1/customers/${unknown}/access-log` },
      ]) {
        const response = await send(call);
        expect(response.statusCode, `${call.method} ${call.url}: ${response.body}`).toBe(404);
        expect(response.json()).toMatchObject({ error: "customer_not_found" });
        expect(response.json().message).toContain(`no customer "${decodeURIComponent(unknown)}"`);
      }
    }
    // Asking about strangers changed nothing for the customer who is known.
    await scenarios.expectLog(customer, rowsFor(PRO_FEATURES, "grant", byEvent(created)));
  });

  it("an unknown feature is a 404 naming it and the catalog's features, for a known or unknown customer", async () => {
    const { customer, userId, created } = await subscriber();
    for (const who of [customer, userId, "cus_nobody"]) {
      for (const call of callsFor(who, "storage")) {
        const response = await send(call);
        expect(response.statusCode, `${call.method} ${call.url}: ${response.body}`).toBe(404);
        expect(response.json()).toMatchObject({ error: "feature_not_found" });
        expect(response.json().message).toBe(
          'no feature "storage" in the catalog (known: reports, exports, api_calls, seats)',
        );
      }
    }
    // A feature in the catalog that no plan of the customer grants is a plain "no", not a 404.
    expect(await scenarios.entitlement(userId, "exports")).toMatchObject({
      customer,
      has_access: false,
      reason: "no_plan_grants_feature",
    });
    await scenarios.expectLog(customer, rowsFor(PRO_FEATURES, "grant", byEvent(created)));
  });

  it("a customer id that cannot exist is refused with a 4xx, never a 500", async () => {
    const { customer, created } = await subscriber();
    for (const bad of ["%00", "cus_%00abc", "x".repeat(256)]) {
      for (const call of [
        ...callsFor(bad, "reports"),
        { method: "GET" as const, url: `/v1/customers/${bad}/access-log` },
      ]) {
        const response = await send(call);
        expect(response.statusCode, `${call.method} ${call.url}: ${response.body}`).toBeGreaterThanOrEqual(
          400,
        );
        expect(response.statusCode, `${call.method} ${call.url}: ${response.body}`).toBeLessThan(500);
      }
    }
    await scenarios.expectLog(customer, rowsFor(PRO_FEATURES, "grant", byEvent(created)));
  });

  it("a customer known only from a subscription webhook (no customer event yet) is found by its Stripe id", async () => {
    const now = nowSeconds();
    const sub = aCustomerSubscription(shape, {
      created: now - DAY,
      items: [{ id: stripeId("si"), price: proPrice(shape) }],
    });
    const created = eventAt("customer.subscription.created", sub.snapshot(), now - 60);
    await scenarios.deliver(created);
    expect(await scenarios.entitlement(sub.customer, "reports")).toMatchObject({ has_access: true });
    const byProductId = await send({
      method: "GET",
      url: `/v1/customers/user_${sub.customer}/entitlements/reports`,
    });
    expect(byProductId.statusCode).toBe(404);
    await scenarios.expectLog(sub.customer, rowsFor(PRO_FEATURES, "grant", byEvent(created)));
  });
});
