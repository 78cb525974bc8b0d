import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../../src/db/client.js";
import { applyEntitlementsForCustomer } from "../../../src/entitlements/apply-entitlements.js";
import type { TestApp } from "../../support/app.js";
import {
  createEntitlementTestApp,
  DAY_MS,
  fromNow,
  insertCustomer,
  insertSubscription,
  type SubscriptionRow,
  updateSubscription,
} from "./support.js";

let testApp: TestApp;
let db: Db;

beforeAll(async () => {
  testApp = await createEntitlementTestApp();
  db = testApp.db;
});
afterAll(async () => testApp?.close());

const apply = (customerId: string, cause = "event:evt_test", options: { now?: Date } = {}) =>
  applyEntitlementsForCustomer(
    testApp.ctx,
    customerId,
    { cause, eventId: cause.replace(/^event:/, "") },
    options,
  );

async function entitlementsOf(customerId: string) {
  const rows = await db.entitlement.findMany({ where: { customerId }, orderBy: { feature: "asc" } });
  return Object.fromEntries(rows.map((row) => [row.feature, row]));
}

const logOf = (customerId: string) =>
  db.accessLog.findMany({ where: { customerId }, orderBy: [{ createdAt: "asc" }, { feature: "asc" }] });

describe("applyEntitlementsForCustomer: granting states", () => {
  it.each<[string, SubscriptionRow, string, string]>([
    ["active", {}, "active", "subscription_active"],
    ["trialing", { status: "trialing" }, "active", "subscription_trialing"],
    [
      "active with pause_collection",
      { pauseCollection: { behavior: "void", resumesAt: null } },
      "active",
      "collection_paused",
    ],
    ["cancel_at_period_end before the end", { cancelAtPeriodEnd: true }, "active", "cancel_scheduled"],
    [
      "past_due within grace",
      { status: "past_due", currentPeriodStart: fromNow(-2 * DAY_MS) },
      "grace",
      "payment_past_due",
    ],
  ])("%s grants the plan's features (%s) and logs each grant", async (_name, row, status, reason) => {
    const customerId = await insertCustomer(db);
    const subscriptionId = await insertSubscription(db, customerId, row);

    const result = await apply(customerId, "event:evt_grant");

    const rows = await entitlementsOf(customerId);
    expect(Object.keys(rows)).toEqual(["api_calls", "seats", "sso"]);
    expect(rows["sso"]).toMatchObject({ status, reason, source: subscriptionId });
    expect(rows["api_calls"]!.limit!.toString()).toBe("1000");
    expect(rows["seats"]!.limit!.toString()).toBe("3");
    const log = await logOf(customerId);
    expect(log.map((entry) => [entry.feature, entry.action, entry.cause, entry.eventId])).toEqual([
      ["api_calls", "grant", "event:evt_grant", "evt_grant"],
      ["seats", "grant", "event:evt_grant", "evt_grant"],
      ["sso", "grant", "event:evt_grant", "evt_grant"],
    ]);
    expect(log[0]!.before).toBeNull();
    expect(log[0]!.after).toMatchObject({ status, limit: "1000", reason, source: [subscriptionId] });
    expect(result.changes).toHaveLength(3);
  });

  it("past_due grace runs from the oldest unpaid invoice", async () => {
    const customerId = await insertCustomer(db);
    const subscriptionId = await insertSubscription(db, customerId, { status: "past_due" });
    const owedFrom = fromNow(-3 * DAY_MS);
    await db.invoice.create({
      data: {
        id: `in_${subscriptionId}`,
        customerId,
        subscriptionId,
        status: "open",
        currency: "usd",
        periodStart: new Date(owedFrom.getTime() - 30 * DAY_MS),
        periodEnd: owedFrom,
      },
    });
    await apply(customerId);
    const rows = await entitlementsOf(customerId);
    expect(rows["sso"]).toMatchObject({
      status: "grace",
      graceUntil: new Date(owedFrom.getTime() + 7 * DAY_MS),
    });
  });

  it("incomplete grants nothing and writes no rows", async () => {
    const customerId = await insertCustomer(db);
    await insertSubscription(db, customerId, { status: "incomplete" });
    const result = await apply(customerId);
    expect(result.changes).toEqual([]);
    expect(await db.entitlement.count({ where: { customerId } })).toBe(0);
    expect(await logOf(customerId)).toEqual([]);
  });
});

describe("applyEntitlementsForCustomer: revoking states", () => {
  it.each<[string, SubscriptionRow, string]>([
    [
      "past_due after grace",
      { status: "past_due", currentPeriodStart: fromNow(-8 * DAY_MS) },
      "payment_past_due_grace_expired",
    ],
    ["incomplete_expired", { status: "incomplete_expired" }, "subscription_incomplete_expired"],
    ["unpaid", { status: "unpaid" }, "subscription_unpaid"],
    ["canceled", { status: "canceled", endedAt: fromNow(-1000) }, "subscription_canceled"],
    ["paused", { status: "paused" }, "subscription_paused"],
    [
      "cancel_at_period_end once the period ended",
      {
        cancelAtPeriodEnd: true,
        currentPeriodStart: fromNow(-31 * DAY_MS),
        currentPeriodEnd: fromNow(-1000),
      },
      "subscription_canceled",
    ],
    ["cancel_at once it passed", { cancelAt: fromNow(-1000) }, "subscription_canceled"],
  ])("%s revokes at once, logging the event that caused it", async (_name, change, reason) => {
    const customerId = await insertCustomer(db);
    const subscriptionId = await insertSubscription(db, customerId);
    await apply(customerId, "event:evt_created");

    await updateSubscription(db, subscriptionId, change);
    await apply(customerId, "event:evt_changed");

    const rows = await entitlementsOf(customerId);
    for (const feature of ["api_calls", "seats", "sso"])
      expect(rows[feature]).toMatchObject({ status: "revoked", reason, limit: null, source: subscriptionId });
    const revokes = (await logOf(customerId)).filter((entry) => entry.action === "revoke");
    expect(revokes.map((entry) => [entry.feature, entry.cause, entry.eventId])).toEqual([
      ["api_calls", "event:evt_changed", "evt_changed"],
      ["seats", "event:evt_changed", "evt_changed"],
      ["sso", "event:evt_changed", "evt_changed"],
    ]);
    expect(revokes[0]!.before).toMatchObject({ status: "active", limit: "1000" });
    expect(revokes[0]!.after).toMatchObject({ status: "revoked", reason });
  });
});

describe("applyEntitlementsForCustomer: idempotency, unions and quantities", () => {
  it("applying twice (and concurrently) adds no log rows", async () => {
    const customerId = await insertCustomer(db);
    await insertSubscription(db, customerId);
    await Promise.all([apply(customerId), apply(customerId), apply(customerId), apply(customerId)]);
    const first = await logOf(customerId);
    expect(first).toHaveLength(3);
    const again = await apply(customerId, "event:evt_again");
    expect(again.changes).toEqual([]);
    expect(await logOf(customerId)).toEqual(first);
  });

  it("a canceled subscription leaves what another subscription grants", async () => {
    const customerId = await insertCustomer(db);
    const pro = await insertSubscription(db, customerId);
    const enterprise = await insertSubscription(db, customerId, {
      items: [{ priceId: "price_ent_monthly", productId: "prod_enterprise" }],
    });
    await apply(customerId, "event:evt_both");
    await updateSubscription(db, pro, { status: "canceled", endedAt: fromNow(-1000) });
    await apply(customerId, "event:evt_pro_deleted");

    const rows = await entitlementsOf(customerId);
    expect(rows["sso"]).toMatchObject({ status: "active", source: enterprise });
    expect(rows["api_calls"]).toMatchObject({ status: "active", limit: null, source: enterprise });
    expect(rows["tokens"]).toMatchObject({ status: "active" });
    expect(rows["seats"]).toMatchObject({ status: "revoked", reason: "subscription_canceled" });
    const changes = (await logOf(customerId)).filter((entry) => entry.cause === "event:evt_pro_deleted");
    expect(changes.map((entry) => [entry.feature, entry.action])).toEqual([
      ["api_calls", "change"],
      ["seats", "revoke"],
      ["sso", "change"],
    ]);
  });

  it("multiplies per-seat limits by the item quantity, and follows a quantity change", async () => {
    const customerId = await insertCustomer(db);
    const subscriptionId = await insertSubscription(db, customerId, {
      items: [{ priceId: "price_team", productId: "prod_team", lookupKey: "team_per_seat", quantity: 4 }],
    });
    await apply(customerId);
    let rows = await entitlementsOf(customerId);
    expect(rows["api_calls"]!.limit!.toString()).toBe("2000");
    expect(rows["seats"]!.limit!.toString()).toBe("4");

    await db.subscriptionItem.updateMany({ where: { subscriptionId }, data: { quantity: 6 } });
    await apply(customerId, "event:evt_quantity");
    rows = await entitlementsOf(customerId);
    expect(rows["api_calls"]!.limit!.toString()).toBe("3000");
    const change = (await logOf(customerId)).find(
      (entry) => entry.cause === "event:evt_quantity" && entry.feature === "api_calls",
    );
    expect(change).toMatchObject({ action: "change", before: { limit: "2000" }, after: { limit: "3000" } });
  });

  it("cancel_at_period_end keeps access until the period ends and revokes after it", async () => {
    const customerId = await insertCustomer(db);
    const periodEnd = fromNow(5 * DAY_MS);
    await insertSubscription(db, customerId, { cancelAtPeriodEnd: true, currentPeriodEnd: periodEnd });

    const before = await apply(customerId, "event:evt_cancel_requested");
    expect(before.decision.nextChangeAt).toEqual(periodEnd);
    expect((await entitlementsOf(customerId))["sso"]).toMatchObject({
      status: "active",
      reason: "cancel_scheduled",
    });

    await apply(customerId, "job:test", { now: new Date(periodEnd.getTime() + 1) });
    expect((await entitlementsOf(customerId))["sso"]).toMatchObject({
      status: "revoked",
      reason: "subscription_canceled",
    });
  });

  it("keeps revoked rows when an item moves to a price no plan matches", async () => {
    const customerId = await insertCustomer(db);
    const subscriptionId = await insertSubscription(db, customerId);
    await apply(customerId);
    await db.subscriptionItem.updateMany({ where: { subscriptionId }, data: { priceId: "price_legacy" } });
    await apply(customerId, "event:evt_downgrade");
    const rows = await entitlementsOf(customerId);
    expect(Object.values(rows).map((row) => [row.feature, row.status, row.reason])).toEqual([
      ["api_calls", "revoked", "no_plan_grants_feature"],
      ["seats", "revoked", "no_plan_grants_feature"],
      ["sso", "revoked", "no_plan_grants_feature"],
    ]);
    expect((await apply(customerId)).changes).toEqual([]);
  });

  it("regrants after a revoke when the customer pays again", async () => {
    const customerId = await insertCustomer(db);
    const subscriptionId = await insertSubscription(db, customerId, { status: "unpaid" });
    await updateSubscription(db, subscriptionId, { status: "active" });
    await apply(customerId, "event:evt_active");
    await updateSubscription(db, subscriptionId, { status: "unpaid" });
    await apply(customerId, "event:evt_unpaid");
    await updateSubscription(db, subscriptionId, { status: "active" });
    await apply(customerId, "event:evt_paid");
    const sso = (await logOf(customerId)).filter((entry) => entry.feature === "sso");
    expect(sso.map((entry) => [entry.action, entry.cause])).toEqual([
      ["grant", "event:evt_active"],
      ["revoke", "event:evt_unpaid"],
      ["grant", "event:evt_paid"],
    ]);
  });
});
