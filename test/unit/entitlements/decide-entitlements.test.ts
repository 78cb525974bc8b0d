import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCatalog } from "../../../src/entitlements/catalog.js";
import {
  decideEntitlements,
  decideStanding,
  type FeatureEntitlement,
} from "../../../src/entitlements/decide-entitlements.js";
import { anItem, aSubscription, at, days, NOW, PERIOD_END, PERIOD_START } from "./subscription-builder.js";

const catalog = parseCatalog(
  {
    features: {
      api_calls: { type: "metered", stripe_meter_event_name: "api_calls" },
      tokens: { type: "metered", stripe_meter_event_name: "llm_tokens" },
      exports: { type: "metered", stripe_meter_event_name: "exports" },
      sso: { type: "boolean" },
      seats: { type: "static" },
    },
    plans: [
      {
        match: { price: "price_pro_monthly" },
        grants: { sso: true, seats: 3, api_calls: { limit: 100000 }, exports: { limit: 10, reset: "never" } },
      },
      {
        match: { lookup_key: "team_per_seat" },
        grants: { seats: { value: 1, per_seat: true }, api_calls: { limit: "2500.5", per_seat: true } },
      },
      { match: { product: "prod_tokens_addon" }, grants: { tokens: { limit: 1000000 } } },
      { match: { product: "prod_enterprise" }, grants: { sso: true, api_calls: { limit: null } } },
    ],
    grace: { past_due_days: 7 },
  },
  "test-catalog.json",
);

function feature(features: FeatureEntitlement[], key: string): FeatureEntitlement {
  const found = features.find((f) => f.feature === key);
  if (found === undefined) throw new Error(`no decision for ${key}`);
  return found;
}

describe("decideEntitlements: the access ladder", () => {
  it.each([
    ["active", {}, "active", "subscription_active"],
    ["trialing", { status: "trialing" }, "active", "subscription_trialing"],
    [
      "past_due within grace",
      { status: "past_due", unpaidSince: at(NOW, -days(3)) },
      "grace",
      "payment_past_due",
    ],
    [
      "past_due after grace",
      { status: "past_due", unpaidSince: at(NOW, -days(8)) },
      "revoked",
      "payment_past_due_grace_expired",
    ],
    ["incomplete", { status: "incomplete" }, "revoked", "subscription_incomplete"],
    ["incomplete_expired", { status: "incomplete_expired" }, "revoked", "subscription_incomplete_expired"],
    ["unpaid", { status: "unpaid" }, "revoked", "subscription_unpaid"],
    ["canceled", { status: "canceled", endedAt: at(NOW, -days(1)) }, "revoked", "subscription_canceled"],
    ["paused", { status: "paused" }, "revoked", "subscription_paused"],
    [
      "active with pause_collection",
      { pauseCollection: { behavior: "void", resumesAt: null } },
      "active",
      "collection_paused",
    ],
    ["cancel_at_period_end before the end", { cancelAtPeriodEnd: true }, "active", "cancel_scheduled"],
    [
      "cancel_at_period_end after the end",
      {
        cancelAtPeriodEnd: true,
        currentPeriodStart: at(NOW, -days(31)),
        currentPeriodEnd: at(NOW, -days(1)),
      },
      "revoked",
      "subscription_canceled",
    ],
    ["cancel_at in the future", { cancelAt: at(NOW, days(2)) }, "active", "cancel_scheduled"],
    ["cancel_at passed", { cancelAt: at(NOW, -1000) }, "revoked", "subscription_canceled"],
    ["an unknown status", { status: "something_new" }, "revoked", "subscription_status_unknown"],
  ] as const)("%s -> %s", (_name, overrides, status, reason) => {
    const decision = decideEntitlements(catalog, [aSubscription(overrides)], NOW);
    expect(feature(decision.features, "sso")).toMatchObject({ status, reason });
    expect(feature(decision.features, "api_calls")).toMatchObject({ status, reason });
  });

  it("grants the plan's limits, with the billing period as the usage window", () => {
    const sub = aSubscription();
    const decision = decideEntitlements(catalog, [sub], NOW);
    expect(decision.features.map((f) => f.feature)).toEqual(["api_calls", "exports", "seats", "sso"]);
    expect(feature(decision.features, "api_calls")).toEqual({
      feature: "api_calls",
      status: "active",
      limit: "100000",
      reset: "billing_period",
      periodStart: PERIOD_START,
      periodEnd: PERIOD_END,
      graceUntil: null,
      reason: "subscription_active",
      sourceSubscriptionIds: [sub.id],
    });
    expect(feature(decision.features, "exports")).toMatchObject({
      limit: "10",
      reset: "never",
      periodStart: null,
    });
    expect(feature(decision.features, "seats")).toMatchObject({ limit: "3", reset: null, periodStart: null });
    expect(feature(decision.features, "sso")).toMatchObject({ limit: null, reset: null });
    expect(decision.nextChangeAt).toBeNull();
  });

  it("prefers the item's own period over the subscription's", () => {
    const itemStart = new Date("2026-11-05T00:00:00Z");
    const itemEnd = new Date("2026-12-05T00:00:00Z");
    const sub = aSubscription({
      items: [anItem({ currentPeriodStart: itemStart, currentPeriodEnd: itemEnd })],
    });
    const decision = decideEntitlements(catalog, [sub], NOW);
    expect(feature(decision.features, "api_calls")).toMatchObject({
      periodStart: itemStart,
      periodEnd: itemEnd,
    });
  });

  it("anchors past_due grace at the unpaid invoice, else at the current period start", () => {
    const unpaidSince = at(NOW, -days(2));
    const fromInvoice = decideEntitlements(
      catalog,
      [aSubscription({ status: "past_due", unpaidSince })],
      NOW,
    );
    expect(feature(fromInvoice.features, "sso").graceUntil).toEqual(at(unpaidSince, days(7)));
    expect(fromInvoice.nextChangeAt).toEqual(at(unpaidSince, days(7)));

    const periodStart = at(NOW, -days(6));
    const fromPeriod = decideEntitlements(
      catalog,
      [aSubscription({ status: "past_due", currentPeriodStart: periodStart })],
      NOW,
    );
    expect(feature(fromPeriod.features, "sso")).toMatchObject({
      status: "grace",
      graceUntil: at(periodStart, days(7)),
    });
  });

  describe("decideStanding: what anchors the past_due grace", () => {
    // Grace is 7 days; the period started 5 days ago, so the period start alone leaves grace until NOW + 2 days.
    const periodStart = at(NOW, -days(5));
    const revoked = null;

    it.each([
      [
        "the open invoice, even when it is older than the past_due move",
        { unpaidSince: at(NOW, -days(8)), pastDueSince: at(NOW, -days(1)) },
        revoked,
      ],
      [
        "the open invoice, even when it is newer than the past_due move",
        { unpaidSince: at(NOW, -days(1)), pastDueSince: at(NOW, -days(8)) },
        at(NOW, days(6)),
      ],
      [
        "the past_due move while no invoice is mirrored",
        { pastDueSince: at(NOW, -days(3)) },
        at(NOW, days(4)),
      ],
      [
        "the past_due move, even when it is older than the period start",
        { pastDueSince: at(NOW, -days(8)) },
        revoked,
      ],
      ["the period start when neither is known", {}, at(NOW, days(2))],
    ])("%s", (_case, anchors, graceUntil) => {
      const standing = decideStanding(
        aSubscription({ status: "past_due", currentPeriodStart: periodStart, ...anchors }),
        7,
        NOW,
      );
      if (graceUntil === revoked)
        expect(standing).toEqual({ granted: false, reason: "payment_past_due_grace_expired" });
      else
        expect(standing).toMatchObject({
          granted: true,
          status: "grace",
          reason: "payment_past_due",
          graceUntil,
        });
    });
  });

  it("ends grace early when the subscription is set to cancel before it runs out", () => {
    const cancelAt = at(NOW, days(1));
    const decision = decideEntitlements(
      catalog,
      [aSubscription({ status: "past_due", unpaidSince: at(NOW, -days(1)), cancelAt })],
      NOW,
    );
    expect(feature(decision.features, "sso").graceUntil).toEqual(cancelAt);
  });

  it("clears limits and windows once revoked", () => {
    const decision = decideEntitlements(catalog, [aSubscription({ status: "unpaid" })], NOW);
    expect(feature(decision.features, "api_calls")).toMatchObject({
      limit: null,
      reset: null,
      periodStart: null,
      periodEnd: null,
      graceUntil: null,
    });
  });

  it("schedules the next change at a future cancel_at or period end", () => {
    const cancelAt = at(NOW, days(3));
    expect(decideEntitlements(catalog, [aSubscription({ cancelAt })], NOW).nextChangeAt).toEqual(cancelAt);
    expect(
      decideEntitlements(catalog, [aSubscription({ cancelAtPeriodEnd: true })], NOW).nextChangeAt,
    ).toEqual(PERIOD_END);
    expect(decideEntitlements(catalog, [aSubscription({ status: "canceled" })], NOW).nextChangeAt).toBeNull();
  });
});

describe("decideEntitlements: several subscriptions and items", () => {
  it("keeps what another subscription still grants when one is canceled", () => {
    const canceled = aSubscription({ status: "canceled", endedAt: at(NOW, -days(1)) });
    const enterprise = aSubscription({
      items: [anItem({ priceId: "price_ent", productId: "prod_enterprise" })],
    });
    const decision = decideEntitlements(catalog, [canceled, enterprise], NOW);
    expect(feature(decision.features, "sso")).toMatchObject({
      status: "active",
      sourceSubscriptionIds: [enterprise.id],
    });
    expect(feature(decision.features, "api_calls")).toMatchObject({ status: "active", limit: null });
    expect(feature(decision.features, "seats")).toMatchObject({
      status: "revoked",
      reason: "subscription_canceled",
      sourceSubscriptionIds: [canceled.id],
    });
  });

  it("prefers an active grant over a grace one", () => {
    const pastDue = aSubscription({ status: "past_due", unpaidSince: at(NOW, -days(1)) });
    const active = aSubscription({ items: [anItem({ priceId: "price_ent", productId: "prod_enterprise" })] });
    const decision = decideEntitlements(catalog, [pastDue, active], NOW);
    expect(feature(decision.features, "sso")).toMatchObject({ status: "active", graceUntil: null });
    expect(feature(decision.features, "sso").sourceSubscriptionIds.sort()).toEqual(
      [active.id, pastDue.id].sort(),
    );
  });

  it("multiplies per-seat limits by the licensed item's quantity", () => {
    const sub = aSubscription({
      items: [anItem({ priceId: "price_team", lookupKey: "team_per_seat", quantity: 4 })],
    });
    const decision = decideEntitlements(catalog, [sub], NOW);
    expect(feature(decision.features, "api_calls").limit).toBe("10002");
    expect(feature(decision.features, "seats").limit).toBe("4");
  });

  it("counts a negative quantity held in the mirror as no seats, never a negative limit", () => {
    const sub = aSubscription({
      items: [anItem({ priceId: "price_team", lookupKey: "team_per_seat", quantity: -3 })],
    });
    const decision = decideEntitlements(catalog, [sub], NOW);
    expect(feature(decision.features, "api_calls").limit).toBe("0");
    expect(feature(decision.features, "seats").limit).toBe("0");
  });

  it("adds up grants of distinct items and lets an unlimited grant win", () => {
    const pro = aSubscription();
    const team = aSubscription({
      items: [anItem({ priceId: "price_team", lookupKey: "team_per_seat", quantity: 2 })],
    });
    expect(feature(decideEntitlements(catalog, [pro, team], NOW).features, "api_calls").limit).toBe("105001");
    expect(feature(decideEntitlements(catalog, [pro, team], NOW).features, "seats").limit).toBe("5");
    const enterprise = aSubscription({
      items: [anItem({ priceId: "price_ent", productId: "prod_enterprise" })],
    });
    expect(
      feature(decideEntitlements(catalog, [pro, enterprise], NOW).features, "api_calls").limit,
    ).toBeNull();
  });

  it("matches an item to the first plan only", () => {
    const sub = aSubscription({
      items: [anItem({ priceId: "price_pro_monthly", productId: "prod_enterprise" })],
    });
    const decision = decideEntitlements(catalog, [sub], NOW);
    expect(feature(decision.features, "api_calls").limit).toBe("100000");
  });

  it("ignores items no plan matches and customers without subscriptions", () => {
    const sub = aSubscription({ items: [anItem({ priceId: "price_other", productId: "prod_other" })] });
    expect(decideEntitlements(catalog, [sub], NOW)).toEqual({ features: [], nextChangeAt: null });
    expect(decideEntitlements(catalog, [], NOW)).toEqual({ features: [], nextChangeAt: null });
  });

  it("is independent of the order subscriptions are given in", () => {
    const subs = [
      aSubscription({ status: "canceled" }),
      aSubscription({ status: "past_due", unpaidSince: at(NOW, -days(1)) }),
      aSubscription({ items: [anItem({ priceId: "price_team", lookupKey: "team_per_seat", quantity: 3 })] }),
      aSubscription({
        items: [anItem({ priceId: "p_addon", productId: "prod_tokens_addon" })],
        cancelAt: at(NOW, 5),
      }),
    ];
    const expected = decideEntitlements(catalog, subs, NOW);
    for (const order of [
      [3, 2, 1, 0],
      [1, 3, 0, 2],
      [2, 0, 3, 1],
    ]) {
      expect(
        decideEntitlements(
          catalog,
          order.map((i) => subs[i]!),
          NOW,
        ),
      ).toEqual(expected);
    }
  });
});

describe("decideEntitlements: properties", () => {
  const statuses = ["active", "trialing", "past_due", "incomplete", "canceled", "unpaid", "paused"] as const;
  const items = [
    { priceId: "price_pro_monthly", productId: "prod_pro", lookupKey: null },
    { priceId: "price_team", productId: "prod_team", lookupKey: "team_per_seat" },
    { priceId: "p_addon", productId: "prod_tokens_addon", lookupKey: null },
    { priceId: "price_ent", productId: "prod_enterprise", lookupKey: null },
  ];
  const subscriptionArb = fc.record({
    status: fc.constantFrom(...statuses),
    unpaidDaysAgo: fc.integer({ min: 0, max: 20 }),
    cancelAtPeriodEnd: fc.boolean(),
    plans: fc.uniqueArray(fc.integer({ min: 0, max: items.length - 1 }), { minLength: 1, maxLength: 3 }),
    quantity: fc.integer({ min: 1, max: 5 }),
  });

  it("canceling one subscription never removes a feature that another subscription grants", () => {
    fc.assert(
      fc.property(fc.array(subscriptionArb, { minLength: 2, maxLength: 4 }), fc.nat(), (specs, pick) => {
        const subs = specs.map((spec, index) =>
          aSubscription({
            id: `sub_p${index}`,
            status: spec.status,
            unpaidSince: at(NOW, -days(spec.unpaidDaysAgo)),
            cancelAtPeriodEnd: spec.cancelAtPeriodEnd,
            items: spec.plans.map((plan, i) =>
              anItem({ id: `si_p${index}_${i}`, ...items[plan]!, quantity: spec.quantity }),
            ),
          }),
        );
        const before = decideEntitlements(catalog, subs, NOW);
        const target = pick % subs.length;
        const after = decideEntitlements(
          catalog,
          subs.map((sub, index) => (index === target ? { ...sub, status: "canceled", endedAt: NOW } : sub)),
          NOW,
        );
        for (const granted of before.features.filter((f) => f.status !== "revoked")) {
          const others = granted.sourceSubscriptionIds.filter((id) => id !== subs[target]!.id);
          const now = feature(after.features, granted.feature);
          if (others.length > 0) expect(now.status).not.toBe("revoked");
          else expect(now.status).toBe("revoked");
        }
      }),
    );
  });
});
