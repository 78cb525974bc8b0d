import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { anEvent, aSubscription, BASE_TIME, type Json, stripeId } from "../../support/builders.js";
import { aCheckoutSession } from "./payment-builders.js";
import { serveSubscription, stripeCalls } from "./stripe-fake.js";
import {
  createSyncHarness,
  loadAccessLog,
  loadSubscription,
  PRO_PRICE,
  type SyncHarness,
} from "./sync-harness.js";

let harness: SyncHarness;
beforeAll(async () => {
  harness = await createSyncHarness();
});
afterAll(async () => {
  await harness.close();
});
beforeEach(() => {
  stripeCalls.length = 0;
});

type Step = "created" | "updated" | "checkout";

const ORDERS: Step[][] = [
  ["created", "updated", "checkout"],
  ["created", "checkout", "updated"],
  ["updated", "created", "checkout"],
  ["updated", "checkout", "created"],
  ["checkout", "created", "updated"],
  ["checkout", "updated", "created"],
];

/** A subscription checkout as Stripe sends it: created incomplete, paid and activated in the next second. */
function checkoutEvents(): {
  events: Record<Step, Json>;
  customer: string;
  subscription: string;
  active: Json;
} {
  const customer = stripeId("cus");
  const subscription = stripeId("sub");
  const at = BASE_TIME + 70;
  const build = (status: "incomplete" | "active") =>
    aSubscription({
      id: subscription,
      customer,
      status,
      created: at,
      items: [{ id: `si_${subscription}`, price: { id: PRO_PRICE } }],
    });
  const active = build("active");
  return {
    customer,
    subscription,
    active,
    events: {
      created: anEvent("customer.subscription.created", build("incomplete"), { created: at }),
      updated: anEvent("customer.subscription.updated", active, { created: at + 1 }),
      checkout: anEvent("checkout.session.completed", aCheckoutSession({ customer, subscription }), {
        created: at + 1,
      }),
    },
  };
}

describe("checkout.session.completed for a subscription", () => {
  it.each(ORDERS)("ends active and grants once when processed as %s, %s, %s", async (...order) => {
    const { events, customer, subscription, active } = checkoutEvents();
    serveSubscription(active);
    for (const step of order) {
      expect(["applied", "skipped"]).toContain((await harness.apply(events[step])).status);
    }
    expect(stripeCalls).toEqual([`GET /v1/subscriptions/${subscription}`]);
    expect(await loadSubscription(harness.db, subscription)).toMatchObject({ status: "active" });
    const log = await loadAccessLog(harness.db, customer);
    expect(log.map((row) => [row.feature, row.action]).sort()).toEqual([
      ["api_calls", "grant"],
      ["sso", "grant"],
    ]);
  });

  it.each([[["created", "checkout"]], [["checkout", "created"]]] as Step[][][])(
    "activates from Stripe's copy before the activation event arrives (%j)",
    async (order) => {
      const { events, customer, subscription, active } = checkoutEvents();
      serveSubscription(active);
      for (const step of order) await harness.apply(events[step]);
      expect(await loadSubscription(harness.db, subscription)).toMatchObject({
        status: "active",
        eventId: null,
      });
      const sso = await harness.db.entitlement.findUniqueOrThrow({
        where: { customerId_feature: { customerId: customer, feature: "sso" } },
      });
      expect(sso).toMatchObject({ status: "active" });
      // The activation event, arriving last, is older than Stripe's copy and changes nothing.
      expect(await harness.apply(events.updated)).toEqual({ status: "skipped", reason: "stale" });
    },
  );

  it("ignores a payment-mode checkout without asking Stripe", async () => {
    const session = aCheckoutSession({ customer: stripeId("cus"), mode: "payment" });
    expect(await harness.apply(anEvent("checkout.session.completed", session))).toEqual({
      status: "ignored",
      reason: `checkout.session.completed for ${session["id"]} in payment mode: no subscription to apply`,
    });
    expect(stripeCalls).toEqual([]);
  });
});
