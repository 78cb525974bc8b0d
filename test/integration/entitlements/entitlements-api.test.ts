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
  insertUsage,
} from "./support.js";

let testApp: TestApp;
let db: Db;

beforeAll(async () => {
  testApp = await createEntitlementTestApp();
  db = testApp.db;
});
afterAll(async () => testApp?.close());

const get = (url: string, headers: Record<string, string> = testApp.auth) =>
  testApp.app.inject({ method: "GET", url, headers });
const check = (payload: unknown) =>
  testApp.app.inject({ method: "POST", url: "/v1/check", headers: testApp.auth, payload: payload as object });

/** A Pro customer (api_calls 1000 per period) already applied, as sync leaves it. */
async function proCustomer(externalId?: string) {
  const customerId = await insertCustomer(db, externalId === undefined ? {} : { externalId });
  const periodStart = fromNow(-10 * DAY_MS);
  const periodEnd = fromNow(20 * DAY_MS);
  await insertSubscription(db, customerId, { currentPeriodStart: periodStart, currentPeriodEnd: periodEnd });
  await applyEntitlementsForCustomer(testApp.ctx, customerId, {
    cause: "event:evt_setup",
    eventId: "evt_setup",
  });
  return { customerId, periodStart, periodEnd };
}

describe("GET /v1/customers/:customer/entitlements", () => {
  it("lists every catalog feature with usage of the current period from the ledger", async () => {
    const { customerId, periodStart, periodEnd } = await proCustomer();
    await insertUsage(db, { customerId, feature: "api_calls", quantity: "250" });
    await insertUsage(db, { customerId, feature: "api_calls", quantity: "0.5" });
    // Usage of the previous period does not count against this one.
    await insertUsage(db, {
      customerId,
      feature: "api_calls",
      quantity: "900",
      occurredAt: new Date(periodStart.getTime() - 1),
    });

    const response = await get(`/v1/customers/${customerId}/entitlements`);

    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.customer).toBe(customerId);
    const byFeature = Object.fromEntries(body.entitlements.map((e: { feature: string }) => [e.feature, e]));
    expect(Object.keys(byFeature).sort()).toEqual(["api_calls", "seats", "sso", "tokens"]);
    expect(byFeature["api_calls"]).toEqual({
      feature: "api_calls",
      has_access: true,
      limit: "1000",
      used: "250.5",
      remaining: "749.5",
      resets_at: periodEnd.toISOString(),
      reason: "subscription_active",
      status: "active",
      grace_until: null,
    });
    expect(byFeature["sso"]).toMatchObject({ has_access: true, limit: null, used: null, remaining: null });
    expect(byFeature["seats"]).toMatchObject({ has_access: true, limit: "3" });
    expect(byFeature["tokens"]).toMatchObject({
      has_access: false,
      limit: null,
      used: null,
      remaining: null,
      reason: "no_plan_grants_feature",
      status: "none",
    });
  });

  it("accepts the product's own customer id", async () => {
    const { customerId } = await proCustomer(`user_${Date.now()}`);
    const externalId = (await db.customer.findUniqueOrThrow({ where: { id: customerId } })).externalId!;
    const response = await get(`/v1/customers/${externalId}/entitlements/sso`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ customer: customerId, feature: "sso", has_access: true });
  });

  it("denies a feature whose limit is reached", async () => {
    const { customerId } = await proCustomer();
    await insertUsage(db, { customerId, feature: "api_calls", quantity: "1000" });
    const response = await get(`/v1/customers/${customerId}/entitlements/api_calls`);
    expect(response.json()).toMatchObject({
      has_access: false,
      limit: "1000",
      used: "1000",
      remaining: "0",
      reason: "limit_reached",
    });
  });

  it("revokes at read time a cancellation that took effect with no event or job since", async () => {
    const customerId = await insertCustomer(db);
    // Scheduled a moment ahead; no deleted event and no enforcement job (no worker runs here) follow.
    const cancelAt = fromNow(1000);
    await insertSubscription(db, customerId, { cancelAt });
    await applyEntitlementsForCustomer(testApp.ctx, customerId, { cause: "event:evt_cancel_requested" });
    expect((await get(`/v1/customers/${customerId}/entitlements/sso`)).json()).toMatchObject({
      has_access: true,
      reason: "cancel_scheduled",
    });
    await new Promise((resolve) => setTimeout(resolve, cancelAt.getTime() - Date.now() + 20));

    const response = await get(`/v1/customers/${customerId}/entitlements/sso`);

    expect(response.json()).toMatchObject({
      has_access: false,
      status: "revoked",
      reason: "subscription_canceled",
    });
    const revoke = await db.accessLog.findFirst({ where: { customerId, feature: "sso", action: "revoke" } });
    expect(revoke).toMatchObject({ cause: "check:access-api", eventId: null });
    const again = await get(`/v1/customers/${customerId}/entitlements/sso`);
    expect(again.json()).toMatchObject({ has_access: false });
    expect(await db.accessLog.count({ where: { customerId, action: "revoke" } })).toBe(3);
  });

  it("answers 404 for an unknown customer or a feature not in the catalog", async () => {
    const { customerId } = await proCustomer();
    const noCustomer = await get("/v1/customers/cus_nobody/entitlements");
    expect(noCustomer.statusCode).toBe(404);
    expect(noCustomer.json()).toMatchObject({ error: "customer_not_found" });
    expect(noCustomer.json().message).toContain('"cus_nobody"');

    const noFeature = await get(`/v1/customers/${customerId}/entitlements/storage`);
    expect(noFeature.statusCode).toBe(404);
    expect(noFeature.json()).toMatchObject({ error: "feature_not_found" });
    expect(noFeature.json().message).toContain('no feature "storage" in the catalog');
  });

  it("answers 401 without an API key", async () => {
    const { customerId } = await proCustomer();
    const response = await get(`/v1/customers/${customerId}/entitlements`, {});
    expect(response.statusCode).toBe(401);
    const wrongKey = await get(`/v1/customers/${customerId}/entitlements`, { authorization: "Bearer nope" });
    expect(wrongKey.statusCode).toBe(401);
  });
});

describe("POST /v1/check", () => {
  it("allows a quantity that fits and refuses one that does not", async () => {
    const { customerId } = await proCustomer();
    await insertUsage(db, { customerId, feature: "api_calls", quantity: "990" });
    expect((await check({ customer: customerId, feature: "api_calls", quantity: 10 })).json()).toEqual({
      customer: customerId,
      feature: "api_calls",
      allowed: true,
      remaining: "10",
      reason: "subscription_active",
    });
    expect(
      (await check({ customer: customerId, feature: "api_calls", quantity: "10.5" })).json(),
    ).toMatchObject({
      allowed: false,
      remaining: "10",
      reason: "would_exceed_limit",
    });
    expect((await check({ customer: customerId, feature: "tokens" })).json()).toMatchObject({
      allowed: false,
      reason: "no_plan_grants_feature",
    });
  });

  it("rejects a malformed body with 400 and an unknown feature with 404", async () => {
    const { customerId } = await proCustomer();
    const negative = await check({ customer: customerId, feature: "api_calls", quantity: -1 });
    expect(negative.statusCode).toBe(400);
    expect(negative.json()).toMatchObject({ error: "validation_failed" });
    expect((await check({ feature: "api_calls" })).statusCode).toBe(400);
    expect((await check({ customer: customerId, feature: "storage" })).statusCode).toBe(404);
    expect((await check({ customer: "cus_nobody", feature: "sso" })).statusCode).toBe(404);
  });
});

describe("POST /v1/check reads quantity exactly as POST /v1/usage does", () => {
  it.each([
    [
      "the JSON number 1.5",
      1.5,
      /^quantity: JSON number 1.5 is not an exact integer; send fractional quantities as a decimal string/,
    ],
    ["zero", 0, /^quantity: must be greater than zero$/],
    ["an exponent", "1e3", /^quantity: "1e3" is not a plain positive decimal/],
    ["null", null, /^quantity: must be a decimal string like "12.5" or an integer$/],
    ["13 decimal places", "0.0000000000001", /^quantity: has more than 12 decimal places$/],
  ])("rejects %s with the message usage gives", async (_name, quantity, message) => {
    const { customerId } = await proCustomer();
    const asCheck = await check({ customer: customerId, feature: "api_calls", quantity });
    const asUsage = await testApp.app.inject({
      method: "POST",
      url: "/v1/usage",
      headers: testApp.auth,
      payload: { usage_id: `check_${Math.random()}`, customer: customerId, feature: "api_calls", quantity },
    });
    expect(asCheck.statusCode).toBe(400);
    expect(asUsage.statusCode).toBe(400);
    expect(asCheck.json().message).toMatch(message);
    expect(asCheck.json().message).toBe(asUsage.json().message);
  });

  it('accepts "0.5" and 7 as usage does, and an omitted quantity asks for one unit', async () => {
    const { customerId } = await proCustomer();
    await insertUsage(db, { customerId, feature: "api_calls", quantity: "999.5" });
    const ask = (quantity?: unknown) =>
      check({ customer: customerId, feature: "api_calls", ...(quantity === undefined ? {} : { quantity }) });
    expect((await ask("0.5")).json()).toMatchObject({ allowed: true, remaining: "0.5" });
    expect((await ask(7)).json()).toMatchObject({ allowed: false, reason: "would_exceed_limit" });
    expect((await ask()).json()).toMatchObject({ allowed: false, reason: "would_exceed_limit" });
    expect((await check({ customer: customerId, feature: "sso" })).json()).toMatchObject({ allowed: true });
  });
});

describe("GET /v1/customers/:customer/access-log", () => {
  it("lists grants and revokes newest first, with their causes", async () => {
    const { customerId } = await proCustomer();
    await db.subscription.updateMany({
      where: { customerId },
      data: { status: "canceled", endedAt: fromNow(-1) },
    });
    await applyEntitlementsForCustomer(testApp.ctx, customerId, {
      cause: "event:evt_deleted",
      eventId: "evt_deleted",
    });

    const response = await get(`/v1/customers/${customerId}/access-log?feature=sso`);
    expect(response.statusCode).toBe(200);
    const { entries } = response.json();
    expect(
      entries.map((e: { action: string; cause: string; event_id: string }) => [
        e.action,
        e.cause,
        e.event_id,
      ]),
    ).toEqual([
      ["revoke", "event:evt_deleted", "evt_deleted"],
      ["grant", "event:evt_setup", "evt_setup"],
    ]);
    expect(entries[0].before).toMatchObject({ status: "active" });
    expect(entries[0].after).toMatchObject({ status: "revoked", reason: "subscription_canceled" });

    const limited = await get(`/v1/customers/${customerId}/access-log?limit=2`);
    expect(limited.json().entries).toHaveLength(2);
    expect((await get(`/v1/customers/${customerId}/access-log?limit=0`)).statusCode).toBe(400);
  });
});
