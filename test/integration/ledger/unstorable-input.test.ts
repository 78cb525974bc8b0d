import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestApp } from "../../support/app.js";
import { createEntitlementTestApp, insertCustomer } from "../entitlements/support.js";

let t: TestApp;
let customer: string;

beforeAll(async () => {
  t = await createEntitlementTestApp();
  customer = await insertCustomer(t.db, { externalId: "user_unstorable" });
});
afterAll(async () => t?.close());

let counter = 0;
const usageId = () => `unstorable_${++counter}`;
const post = (payload: object) =>
  t.app.inject({ method: "POST", url: "/v1/usage", headers: t.auth, payload });
const get = (url: string) => t.app.inject({ method: "GET", url, headers: t.auth });
const event = (override: Record<string, unknown> = {}) => ({
  usage_id: usageId(),
  customer,
  feature: "api_calls",
  quantity: 1,
  ...override,
});

/** `{"inner":{"inner":...{"leaf":true}}}` as JSON text: too deep for JSON.stringify to build from an object. */
function nestedJson(depth: number): string {
  return `${'{"inner":'.repeat(depth - 1)}{"leaf":true}${"}".repeat(depth - 1)}`;
}
const nested = (depth: number): Record<string, unknown> => JSON.parse(nestedJson(depth));

const NUL = "\u0000";
const LONE_SURROGATE = "\ud800";

describe("usage Postgres could not store is a 400 naming the field, and nothing is lost", () => {
  it.each([
    ["a NUL in customer", { customer: `cus_a${NUL}b` }, /^customer: must not contain the NUL character/],
    ["a NUL in usage_id", { usage_id: `req${NUL}` }, /^usage_id: must not contain the NUL character/],
    ["a NUL in feature", { feature: `api${NUL}calls` }, /^feature: must not contain the NUL character/],
    [
      "a NUL inside properties",
      { properties: { model: { name: `gpt${NUL}` } } },
      /^properties\.model\.name: must not contain the NUL character/,
    ],
    [
      "a NUL in a properties key",
      { properties: { [`a${NUL}b`]: 1 } },
      /^properties: key "a\\u0000b" must not contain the NUL character/,
    ],
    [
      "a lone surrogate in customer",
      { customer: `user_${LONE_SURROGATE}` },
      /^customer: .*lone UTF-16 surrogate/,
    ],
    [
      "a lone surrogate in properties",
      { properties: { list: ["ok", LONE_SURROGATE] } },
      /^properties\.list\.1: .*lone UTF-16 surrogate/,
    ],
    ["properties 200 levels deep", { properties: nested(200) }, /^properties: nested deeper than 8 levels/],
    [
      "properties over 16 KiB",
      { properties: { blob: "x".repeat(17 * 1024) } },
      /^properties: larger than 16 KiB as JSON/,
    ],
  ])("%s", async (_name, override, message) => {
    const body = event(override);
    const response = await post(body);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: "validation_failed" });
    expect(response.json().message).toMatch(message);
    expect(await t.db.ledgerEntry.count()).toBe(0);
  });

  it("properties 100,000 levels deep", async () => {
    const body = JSON.stringify(event({ properties: "DEEP" })).replace('"DEEP"', nestedJson(100_000));
    const response = await t.app.inject({
      method: "POST",
      url: "/v1/usage",
      headers: { ...t.auth, "content-type": "application/json" },
      payload: body,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toBe("properties: nested deeper than 8 levels");
    expect(await t.db.ledgerEntry.count()).toBe(0);
  });

  it("properties 8 levels deep and just under 16 KiB are recorded", async () => {
    const deep = event({ properties: nested(8) });
    const large = event({ properties: { blob: "x".repeat(16 * 1024 - 20) } });
    expect((await post(deep)).statusCode).toBe(200);
    expect((await post(large)).statusCode).toBe(200);
    const rows = await t.db.ledgerEntry.findMany({
      where: { usageId: { in: [deep.usage_id, large.usage_id] } },
    });
    expect(rows).toHaveLength(2);
    await t.db.ledgerEntry.deleteMany();
  });

  it("in a batch only the unstorable events are invalid; the rest are recorded", async () => {
    const good = [event(), event({ customer: "user_unstorable" })];
    const response = await post({
      events: [
        good[0],
        event({ customer: `cus_${NUL}` }),
        event({ properties: nested(300) }),
        event({ usage_id: `req_${LONE_SURROGATE}` }),
        good[1],
      ],
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.counts).toEqual({ recorded: 2, duplicate: 0, conflict: 0, invalid: 3 });
    expect(body.results.map((result: { status: string }) => result.status)).toEqual([
      "recorded",
      "invalid",
      "invalid",
      "invalid",
      "recorded",
    ]);
    expect(body.results[1].message).toMatch(/^customer: must not contain the NUL character/);
    expect(body.results[2].message).toMatch(/^properties: nested deeper than 8 levels/);
    expect(body.results[3].message).toMatch(/^usage_id: .*lone UTF-16 surrogate/);
    const rows = await t.db.ledgerEntry.findMany({ orderBy: { usageId: "asc" } });
    expect(rows.map((row) => row.usageId)).toEqual(good.map((item) => item.usage_id));
  });
});

describe("path parameters Postgres could not store are a 400 naming the parameter", () => {
  it.each([
    "/v1/customers/%00/entitlements",
    "/v1/customers/%00/entitlements/sso",
    "/v1/customers/cus_x%00/ledger",
    "/v1/customers/%00/access-log",
  ])("%s", async (url) => {
    const response = await get(url);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: "validation_failed",
      message: "customer: must not contain the NUL character (\\u0000)",
    });
  });

  it("a NUL in the feature parameter or a lone surrogate in the customer", async () => {
    const feature = await get(`/v1/customers/${customer}/entitlements/sso%00`);
    expect(feature.statusCode).toBe(400);
    expect(feature.json().message).toBe("feature: must not contain the NUL character (\\u0000)");
    // %ED%A0%80 is a surrogate encoded as UTF-8: not a character at all.
    expect((await get("/v1/customers/%ED%A0%80/entitlements")).statusCode).toBe(400);
  });

  it("the check API rejects the same input in its body", async () => {
    const response = await t.app.inject({
      method: "POST",
      url: "/v1/check",
      headers: t.auth,
      payload: { customer: `user_${LONE_SURROGATE}`, feature: "sso" },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toMatch(/^customer: .*lone UTF-16 surrogate/);
  });
});
