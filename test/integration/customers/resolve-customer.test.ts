import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../../src/db/client.js";
import type { TestApp } from "../../support/app.js";
import {
  createEntitlementTestApp,
  DAY_MS,
  fromNow,
  insertCustomer,
  insertSubscription,
} from "../entitlements/support.js";

let t: TestApp;
let db: Db;

beforeAll(async () => {
  t = await createEntitlementTestApp();
  db = t.db;
});
afterAll(async () => t?.close());

const get = (url: string) => t.app.inject({ method: "GET", url, headers: t.auth });
const postUsage = (payload: object) =>
  t.app.inject({ method: "POST", url: "/v1/usage", headers: t.auth, payload });

async function touch(customerId: string, updatedAt: Date): Promise<void> {
  await db.$executeRaw`UPDATE customers SET "updatedAt" = ${updatedAt} WHERE id = ${customerId}`;
}

/** Stripe customers carrying one product id, each updated at its own time, newest last. */
async function sharedId(
  externalId: string,
  setups: { status: string | null; deleted?: boolean }[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const [index, setup] of setups.entries()) {
    const id = await insertCustomer(db, { externalId });
    if (setup.status !== null) await insertSubscription(db, id, { status: setup.status });
    if (setup.deleted) await db.customer.update({ where: { id }, data: { deleted: true } });
    await touch(id, fromNow(-(setups.length - index) * DAY_MS));
    ids.push(id);
  }
  return ids;
}

describe("a product id carried by several Stripe customers", () => {
  it("resolves to the paying customer, not the newest one, for access, usage and the ledger", async () => {
    const [paying, canceled, newest] = await sharedId("shared", [
      { status: "active" },
      { status: "canceled" },
      { status: null },
    ]);

    const access = await get("/v1/customers/shared/entitlements/sso");
    expect(access.statusCode).toBe(200);
    expect(access.json()).toMatchObject({ customer: paying, has_access: true });

    const usage = await postUsage({
      usage_id: "shared_1",
      customer: "shared",
      feature: "api_calls",
      quantity: 3,
    });
    expect(usage.statusCode).toBe(200);
    expect(usage.json().customer).toBe(paying);
    const rows = await db.ledgerEntry.findMany({ where: { usageId: "shared_1" } });
    expect(rows.map((row) => row.customerId)).toEqual([paying]);

    const ledger = await get("/v1/customers/shared/ledger");
    expect(ledger.json().customer).toBe(paying);
    expect(await db.ledgerEntry.count({ where: { customerId: { in: [canceled!, newest!] } } })).toBe(0);
  });

  it("among several paying customers takes the most recently updated; a deleted one never", async () => {
    const [, pastDue] = await sharedId("shared_two_paying", [
      { status: "trialing" },
      { status: "past_due" },
      { status: "canceled" },
      { status: "active", deleted: true },
    ]);
    expect((await get("/v1/customers/shared_two_paying/entitlements/sso")).json().customer).toBe(pastDue);
  });

  it("with no paying customer takes the most recently updated one", async () => {
    const [, , newest] = await sharedId("shared_none_paying", [
      { status: "canceled" },
      { status: "unpaid" },
      { status: "incomplete_expired" },
    ]);
    const access = await get("/v1/customers/shared_none_paying/entitlements/sso");
    expect(access.json()).toMatchObject({ customer: newest, has_access: false });
  });
});
