import { describe, expect, it } from "vitest";
import { normalizeSubscription } from "../../../src/stripe/normalize/index.js";
import type { SubscriptionSnapshot } from "../../../src/stripe/normalize/types.js";
import {
  aPrice,
  aSubscription,
  type Json,
  objectOf,
  stripeFixture,
  stripeFixtureNames,
} from "../../support/builders.js";

const at = (seconds: number) => new Date(seconds * 1000);

function read(raw: unknown): SubscriptionSnapshot {
  const result = normalizeSubscription(raw);
  if (!result.ok) throw new Error(`expected a readable subscription: ${result.reason}`);
  return result.value;
}

const subscriptionFixtures: [string, Json][] = [
  ...stripeFixtureNames("objects")
    .filter((name) => name.includes("__subscription__"))
    .map((name): [string, Json] => [name, stripeFixture(`objects/${name}`)]),
  ...stripeFixtureNames("events")
    .filter((name) => name.includes("__customer.subscription."))
    .map((name): [string, Json] => [name, objectOf(stripeFixture(`events/${name}`))]),
];

describe("normalizeSubscription over the real payloads", () => {
  it("has subscription fixtures of both shapes to read", () => {
    const shapes = subscriptionFixtures.map(([, raw]) => ("current_period_end" in raw ? "legacy" : "basil"));
    expect(shapes).toContain("legacy");
    expect(shapes).toContain("basil");
  });

  it.each(subscriptionFixtures)("%s reads, and every item gets a billing period", (_name, raw) => {
    const subscription = read(raw);
    expect(subscription.stripeSubscriptionId).toBe(raw["id"]);
    expect(subscription.items.length).toBeGreaterThan(0);
    for (const item of subscription.items) {
      expect(item.stripePriceId).toMatch(/\S/);
      expect(item.currentPeriodStart).toBeInstanceOf(Date);
      expect(item.currentPeriodEnd).toBeInstanceOf(Date);
    }
    expect(subscription.currentPeriodEnd).toBeInstanceOf(Date);
  });

  it("reads a pre-basil subscription: periods from the subscription, price and product from each item", () => {
    const raw = objectOf(
      stripeFixture("events/2020-03-02__customer.subscription.created__stripe-sync-engine.json"),
    );
    const subscription = read(raw);
    expect(subscription).toMatchObject({
      stripeSubscriptionId: "sub_JdIzvfy6o5GZRd",
      stripeCustomerId: "cus_IhGfebO16cMIGN",
      status: "active",
      cancelAtPeriodEnd: false,
      cancelAt: null,
      canceledAt: null,
      endedAt: null,
      currentPeriodStart: at(1623148918),
      currentPeriodEnd: at(1625740918),
      pauseCollection: null,
      stripeCreated: at(1623148918),
      itemsComplete: true,
    });
    expect(subscription.metadata).toMatchObject({
      project_id: "312",
      organization_slug: "visible-emerald-fly",
    });
    expect(subscription.items).toHaveLength(2);
    expect(subscription.items[0]).toMatchObject({
      stripeSubscriptionItemId: "si_JdIzi4Tn5jV9PD",
      stripePriceId: "price_1IDQm5JDPojXS6LNM31hxKzp",
      stripeProductId: "prod_Ip4vqwv3EJ7Mi0",
      quantity: 1,
      currentPeriodStart: at(1623148918),
      currentPeriodEnd: at(1625740918),
    });
    // The second item of this capture has no quantity at all: unknown, not zero.
    expect(subscription.items[1]!.quantity).toBeNull();
    expect(subscription.items[0]!.price).toMatchObject({
      currency: "usd",
      unitAmountMinor: 0n,
      usageType: "licensed",
    });
  });

  it("reads a canceled pre-basil subscription's end", () => {
    const raw = objectOf(
      stripeFixture("events/2020-03-02__customer.subscription.deleted__stripe-sync-engine.json"),
    );
    expect(read(raw)).toMatchObject({
      status: "canceled",
      canceledAt: at(1623149102),
      endedAt: at(1623149102),
    });
  });

  it("reads a basil subscription: periods only on the item", () => {
    const raw = stripeFixture("objects/2025-03-31.basil__subscription__stripe-openapi.json");
    expect("current_period_start" in raw).toBe(false);
    const subscription = read(raw);
    // stripe-mock's placeholder period (start after end) is read as given, not corrected.
    expect(subscription.items[0]).toMatchObject({
      currentPeriodStart: at(1896570518),
      currentPeriodEnd: at(976287773),
    });
    expect(subscription.currentPeriodEnd).toEqual(at(976287773));
    expect(subscription.cancelAtPeriodEnd).toBe(false);
  });

  it("reads a hand-edited subscription whose item carries a plan-shaped price and the item periods", () => {
    const subscription = read(
      stripeFixture("objects/hybrid-2025__subscription__pay__items-current-period.json"),
    );
    expect(subscription.items[0]).toMatchObject({
      stripePriceId: "FFBEGINNER_00000000000000",
      stripeProductId: "prod_00000000000000",
      quantity: 2,
      currentPeriodStart: at(1486568724),
      currentPeriodEnd: at(1488987924),
    });
    expect(subscription.items[0]!.price).toMatchObject({
      unitAmountMinor: 300n,
      unitAmountDecimal: "300",
      recurringInterval: "month",
    });
    expect(subscription).toMatchObject({
      currentPeriodStart: at(1486568724),
      currentPeriodEnd: at(1488987924),
    });
  });

  it("reads pause_collection and ignores keys newer versions add (dahlia)", () => {
    const subscription = read(stripeFixture("objects/2026-07-29.dahlia__subscription__stripe-openapi.json"));
    expect(subscription.pauseCollection).toEqual({ behavior: "mark_uncollectible", resumesAt: null });
    expect(subscription.cancelAtPeriodEnd).toBe(true);
    expect(subscription.items[0]!.price?.transformQuantity).toEqual({ divideBy: 1592560163, round: "down" });
  });

  it("reads the same subscription identically in the legacy and the basil shape", () => {
    const price = aPrice({ id: "price_pro", product: "prod_pro", unitAmount: 4900 });
    const common = {
      id: "sub_same",
      customer: "cus_same",
      status: "past_due" as const,
      created: 1_767_225_600,
      currentPeriodStart: 1_767_225_600,
      currentPeriodEnd: 1_769_904_000,
      items: [{ id: "si_same", price, quantity: 3 }],
    };
    const legacy = read(aSubscription({ ...common, shape: "legacy" }));
    const basil = read(aSubscription({ ...common, shape: "basil" }));
    expect(basil).toEqual(legacy);
    expect(basil.items[0]).toMatchObject({ currentPeriodEnd: at(1_769_904_000), quantity: 3 });
  });

  it("takes the subscription's period from the item that renews first when basil items differ", () => {
    const subscription = read(
      aSubscription({
        items: [
          { id: "si_year", currentPeriodStart: 1_767_225_600, currentPeriodEnd: 1_798_761_600 },
          { id: "si_month", currentPeriodStart: 1_768_000_000, currentPeriodEnd: 1_770_600_000 },
        ],
      }),
    );
    expect(subscription.currentPeriodStart).toEqual(at(1_768_000_000));
    expect(subscription.currentPeriodEnd).toEqual(at(1_770_600_000));
    expect(subscription.items.map((item) => item.currentPeriodEnd)).toEqual([
      at(1_798_761_600),
      at(1_770_600_000),
    ]);
  });

  it("accepts an expanded customer and an item whose price is only an id", () => {
    const raw = aSubscription({ customer: "cus_expanded" });
    raw["customer"] = { id: "cus_expanded", object: "customer" };
    const item = ((raw["items"] as Json)["data"] as Json[])[0]!;
    item["price"] = "price_only_id";
    delete item["plan"];
    const subscription = read(raw);
    expect(subscription.stripeCustomerId).toBe("cus_expanded");
    expect(subscription.items[0]).toMatchObject({
      stripePriceId: "price_only_id",
      stripeProductId: null,
      price: null,
    });
  });

  it("marks a truncated items list as incomplete", () => {
    const raw = aSubscription();
    (raw["items"] as Json)["has_more"] = true;
    expect(read(raw).itemsComplete).toBe(false);
  });

  it.each([
    ["no customer", (raw: Json) => delete raw["customer"], /has no customer/],
    ["no status", (raw: Json) => delete raw["status"], /has no status/],
    ["no items list", (raw: Json) => delete raw["items"], /has no items list/],
    [
      "an item without a price",
      (raw: Json) => {
        const item = ((raw["items"] as Json)["data"] as Json[])[0]!;
        delete item["price"];
        delete item["plan"];
      },
      /item 0: .* has no price/,
    ],
    ["another object", (raw: Json) => (raw["object"] = "invoice"), /is a invoice, not a subscription/],
  ])("refuses a subscription with %s, with a reason", (_case, edit, reason) => {
    const raw = aSubscription();
    edit(raw);
    const result = normalizeSubscription(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it("refuses what is not an object", () => {
    expect(normalizeSubscription(null)).toEqual({ ok: false, reason: "subscription is not an object" });
    expect(normalizeSubscription("sub_1")).toEqual({ ok: false, reason: "subscription is not an object" });
  });
});
