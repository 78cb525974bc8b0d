import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../../src/demo/demo-processes.js";
import { loadFixtureEvents, objectsOfEvents } from "../../../src/demo/fixture-events.js";
import { anEvent, aPrice, aSubscription } from "../../../src/demo/stripe-objects.js";

describe("fixture events for the demo", () => {
  it("loads the copied real Stripe events oldest first", () => {
    const fixtures = loadFixtureEvents(join(REPO_ROOT, "test/fixtures/stripe/events"));
    expect(fixtures.length).toBeGreaterThan(0);
    const created = fixtures.map(({ event }) => event.created ?? 0);
    expect(created).toEqual([...created].sort((a, b) => a - b));
    expect(fixtures.every(({ event }) => event.object === "event")).toBe(true);
  });

  it("gives the stand-in the newest state of each object an event carries, with the prices inside items", () => {
    const price = aPrice({
      id: "price_x",
      product: "prod_x",
      currency: "usd",
      created: 1,
      nickname: "x",
      unitAmountDecimal: "100",
    });
    const base = {
      id: "sub_x",
      customer: "cus_x",
      currency: "usd",
      created: 1,
      currentPeriodStart: 1,
      currentPeriodEnd: 2,
      items: [{ id: "si_x", price }],
    };
    const data = objectsOfEvents([
      anEvent({
        id: "evt_1",
        type: "customer.subscription.created",
        created: 1,
        object: aSubscription({ ...base, status: "active" }),
      }),
      anEvent({
        id: "evt_2",
        type: "customer.subscription.deleted",
        created: 2,
        object: aSubscription({ ...base, status: "canceled" }),
      }),
      anEvent({ id: "evt_3", type: "invoice.upcoming", created: 3, object: { id: "", object: "invoice" } }),
    ]);
    expect(data.subscriptions?.map((s) => [s.id, s["status"]])).toEqual([["sub_x", "canceled"]]);
    expect(data.prices?.map((p) => p.id)).toEqual(["price_x"]);
    expect(data.invoices).toBeUndefined();
  });
});
