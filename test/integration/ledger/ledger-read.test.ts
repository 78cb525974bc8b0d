import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../../support/app.js";

let t: TestApp;

const minute = 60_000;
const base = new Date("2026-11-20T08:00:00Z").getTime();

beforeAll(async () => {
  t = await createTestApp();
  await t.db.customer.create({ data: { id: "cus_bob", externalId: "user_bob" } });
  // Recorded in shuffled order: the ledger must still read newest occurrence first.
  const rows = [
    { usageId: "u3", minutes: 30, quantity: "3", reportedAt: new Date(base + 31 * minute) },
    { usageId: "u1", minutes: 10, quantity: "0.000001" },
    { usageId: "u5", minutes: 50, quantity: "5", reportError: "invalid_request: no such meter" },
    { usageId: "u2", minutes: 20, quantity: "2" },
    { usageId: "u4", minutes: 40, quantity: "4" },
  ];
  for (const row of rows) {
    await t.db.ledgerEntry.create({
      data: {
        usageId: row.usageId,
        customerId: "cus_bob",
        feature: "tokens",
        quantity: row.quantity,
        occurredAt: new Date(base + row.minutes * minute),
        fingerprint: "f".repeat(64),
        reportedAt: row.reportedAt ?? null,
        reportError: row.reportError ?? null,
      },
    });
  }
  await t.db.ledgerEntry.create({
    data: {
      usageId: "other",
      customerId: "cus_carol",
      feature: "tokens",
      quantity: "1",
      occurredAt: new Date(base),
      fingerprint: "f".repeat(64),
    },
  });
});

afterAll(async () => {
  await t?.close();
});

function get(url: string, headers: Record<string, string> = t.auth) {
  return t.app.inject({ method: "GET", url, headers });
}

describe("GET /v1/customers/:customer/ledger", () => {
  it("lists the customer's entries newest first, each explaining itself", async () => {
    const response = await get("/v1/customers/cus_bob/ledger");
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.customer).toBe("cus_bob");
    expect(body.entries.map((entry: { usage_id: string }) => entry.usage_id)).toEqual([
      "u5",
      "u4",
      "u3",
      "u2",
      "u1",
    ]);
    expect(body.next_before).toBeNull();
    const [u5, , u3, , u1] = body.entries;
    expect(u3).toMatchObject({
      kind: "usage",
      feature: "tokens",
      quantity: "3",
      occurred_at: "2026-11-20T08:30:00.000Z",
      reported_at: "2026-11-20T08:31:00.000Z",
    });
    expect(u3.explanation).toBe(
      "Used 3 tokens at 2026-11-20T08:30:00.000Z (recorded later, at " +
        `${u3.recorded_at}) under usage_id "u3"; reported to Stripe at 2026-11-20T08:31:00.000Z.`,
    );
    expect(u1.quantity).toBe("0.000001");
    expect(u1.explanation).toContain("not yet reported to Stripe");
    expect(u5.explanation).toContain("Stripe refused the report (invalid_request: no such meter)");
    for (const entry of body.entries) {
      expect(Object.keys(entry)).toEqual(
        expect.arrayContaining([
          "id",
          "usage_id",
          "kind",
          "feature",
          "quantity",
          "occurred_at",
          "recorded_at",
          "reported_at",
          "explanation",
        ]),
      );
    }
  });

  it("pages with limit and next_before without skipping or repeating an entry", async () => {
    const first = (await get("/v1/customers/cus_bob/ledger?limit=2")).json();
    expect(first.entries.map((entry: { usage_id: string }) => entry.usage_id)).toEqual(["u5", "u4"]);
    const second = (await get(`/v1/customers/cus_bob/ledger?limit=2&before=${first.next_before}`)).json();
    expect(second.entries.map((entry: { usage_id: string }) => entry.usage_id)).toEqual(["u3", "u2"]);
    const third = (await get(`/v1/customers/cus_bob/ledger?limit=2&before=${second.next_before}`)).json();
    expect(third.entries.map((entry: { usage_id: string }) => entry.usage_id)).toEqual(["u1"]);
    expect(third.next_before).toBeNull();
  });

  it("reads entries that occurred before a given time", async () => {
    const response = await get("/v1/customers/cus_bob/ledger?before=2026-11-20T08:30:00Z");
    expect(response.json().entries.map((entry: { usage_id: string }) => entry.usage_id)).toEqual([
      "u2",
      "u1",
    ]);
  });

  it("accepts the product's own id for the customer", async () => {
    const response = await get("/v1/customers/user_bob/ledger?limit=1");
    expect(response.json()).toMatchObject({ customer: "cus_bob", entries: [{ usage_id: "u5" }] });
  });

  it("reads a Stripe customer whose mirror has not arrived but whose usage has", async () => {
    const response = await get("/v1/customers/cus_carol/ledger");
    expect(response.statusCode).toBe(200);
    expect(response.json().entries).toHaveLength(1);
  });

  it("is a 404 for an unknown customer and a 400 for a bad query", async () => {
    expect((await get("/v1/customers/user_nobody/ledger")).statusCode).toBe(404);
    expect((await get("/v1/customers/cus_nobody/ledger")).json().error).toBe("customer_not_found");
    expect((await get("/v1/customers/cus_bob/ledger?limit=0")).statusCode).toBe(400);
    expect((await get("/v1/customers/cus_bob/ledger?before=not-an-entry")).statusCode).toBe(400);
  });

  it("needs the API key", async () => {
    expect((await get("/v1/customers/cus_bob/ledger", {})).statusCode).toBe(401);
  });
});
