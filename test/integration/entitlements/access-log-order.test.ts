import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { applyEntitlementsForCustomer } from "../../../src/entitlements/apply-entitlements.js";
import type { TestApp } from "../../support/app.js";
import {
  createEntitlementTestApp,
  DAY_MS,
  fromNow,
  insertCustomer,
  insertSubscription,
  updateSubscription,
} from "./support.js";

let testApp: TestApp;

beforeAll(async () => {
  testApp = await createEntitlementTestApp();
});
afterAll(async () => testApp?.close());

type Entry = { feature: string; action: string; cause: string; created_at: string };

async function accessLog(customerId: string, query = ""): Promise<Entry[]> {
  const response = await testApp.app.inject({
    method: "GET",
    url: `/v1/customers/${customerId}/access-log${query}`,
    headers: testApp.auth,
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().entries;
}

/** Runs `write` as a worker whose clock is `behindMs` behind this one's. */
async function withClockBehind<T>(behindMs: number, write: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.now() - behindMs);
  try {
    return await write();
  } finally {
    vi.useRealTimers();
  }
}

describe("GET /v1/customers/:customer/access-log order", () => {
  it("lists the later write first even when its worker's clock runs behind the earlier one's", async () => {
    const customerId = await insertCustomer(testApp.db);
    const subscriptionId = await insertSubscription(testApp.db, customerId);
    await applyEntitlementsForCustomer(testApp.ctx, customerId, {
      cause: "event:evt_paid",
      eventId: "evt_paid",
    });
    await updateSubscription(testApp.db, subscriptionId, { status: "canceled", endedAt: fromNow(-DAY_MS) });
    await withClockBehind(60_000, () =>
      applyEntitlementsForCustomer(testApp.ctx, customerId, {
        cause: "event:evt_canceled",
        eventId: "evt_canceled",
      }),
    );

    const entries = await accessLog(customerId, "?feature=sso");
    expect(entries.map((entry) => [entry.action, entry.cause])).toEqual([
      ["revoke", "event:evt_canceled"],
      ["grant", "event:evt_paid"],
    ]);
    // The revoke is stamped a minute before the grant it follows: ordering by the stamp would invert them.
    expect(Date.parse(entries[0]!.created_at)).toBeLessThan(Date.parse(entries[1]!.created_at));

    const all = await accessLog(customerId);
    expect(all.map((entry) => entry.cause)).toEqual([
      ...all.filter((entry) => entry.action === "revoke").map(() => "event:evt_canceled"),
      ...all.filter((entry) => entry.action === "grant").map(() => "event:evt_paid"),
    ]);
    expect(all.filter((entry) => entry.action === "revoke").length).toBeGreaterThan(1);
    const newest = await accessLog(customerId, "?limit=1");
    expect(newest).toMatchObject([{ action: "revoke", cause: "event:evt_canceled" }]);
  });
});
