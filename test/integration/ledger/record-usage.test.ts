import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCatalog } from "../../../src/entitlements/catalog.js";
import { createTestApp, type TestApp } from "../../support/app.js";

const catalogFile = {
  features: {
    tokens: { type: "metered", stripe_meter_event_name: "llm_tokens" },
    api_calls: { type: "metered", stripe_meter_event_name: "api_calls" },
    sso: { type: "boolean" },
    seats: { type: "static" },
  },
  plans: [],
};

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({
    extend: (ctx) => ({ ...ctx, catalog: parseCatalog(catalogFile, "test catalog") }),
  });
  await t.db.customer.create({ data: { id: "cus_alice", externalId: "user_alice" } });
});

afterAll(async () => {
  await t?.close();
});

let counter = 0;
function usageId(): string {
  counter += 1;
  return `req_${counter}_${Date.now()}`;
}

function post(body: unknown, headers: Record<string, string> = t.auth) {
  return t.app.inject({ method: "POST", url: "/v1/usage", headers, payload: body as object });
}

async function rowsFor(id: string) {
  return t.db.ledgerEntry.findMany({ where: { usageId: id } });
}

describe("POST /v1/usage (one event)", () => {
  it("records usage as one ledger row", async () => {
    const id = usageId();
    const response = await post({ usage_id: id, customer: "cus_alice", feature: "tokens", quantity: 1200 });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      usage_id: id,
      customer: "cus_alice",
      feature: "tokens",
      quantity: "1200",
      duplicate: false,
    });
    const rows = await rowsFor(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toBe(body.id);
    expect(rows[0]!.quantity.toFixed()).toBe("1200");
    expect(rows[0]!.kind).toBe("usage");
    expect(rows[0]!.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]!.reportedAt).toBeNull();
  });

  it("replaying the same payload answers 200 with the original result and records nothing", async () => {
    const id = usageId();
    const payload = {
      usage_id: id,
      customer: "cus_alice",
      feature: "tokens",
      quantity: "5",
      properties: { model: "small", region: "eu" },
    };
    const first = await post(payload);
    // Same content, keys in another order and the customer named by the product's own id.
    const replay = await post({
      properties: { region: "eu", model: "small" },
      quantity: "5.000",
      feature: "tokens",
      customer: "user_alice",
      usage_id: id,
    });
    expect(first.statusCode).toBe(200);
    expect(replay.statusCode).toBe(200);
    const { duplicate: firstDuplicate, ...original } = first.json();
    const { duplicate: replayDuplicate, ...replayed } = replay.json();
    expect(firstDuplicate).toBe(false);
    expect(replayDuplicate).toBe(true);
    expect(replayed).toEqual(original);
    expect(await rowsFor(id)).toHaveLength(1);
  });

  it("the same usage_id with a different quantity is a 409 naming the field, and the original stays", async () => {
    const id = usageId();
    await post({ usage_id: id, customer: "cus_alice", feature: "tokens", quantity: 10 });
    const response = await post({ usage_id: id, customer: "cus_alice", feature: "tokens", quantity: 11 });
    expect(response.statusCode).toBe(409);
    const body = response.json();
    expect(body).toMatchObject({
      error: "usage_conflict",
      usage_id: id,
      differing_fields: ["quantity"],
      original: { quantity: "10" },
      request: { quantity: "11" },
    });
    expect(body.message).toContain("quantity");
    expect(body.original_fingerprint).not.toBe(body.request_fingerprint);
    const rows = await rowsFor(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.quantity.toFixed()).toBe("10");
  });

  it("a conflict on the time names the timestamp", async () => {
    const id = usageId();
    const base = { usage_id: id, customer: "cus_alice", feature: "tokens", quantity: 1 };
    await post({ ...base, timestamp: "2026-11-30T10:00:00Z" });
    const response = await post({ ...base, timestamp: "2026-11-30T10:00:01Z" });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({
      differing_fields: ["timestamp"],
      original: { timestamp: "2026-11-30T10:00:00.000Z" },
      request: { timestamp: "2026-11-30T10:00:01.000Z" },
    });
  });

  it("20 concurrent identical posts make one row and all answer 200", async () => {
    const id = usageId();
    const payload = { usage_id: id, customer: "cus_alice", feature: "api_calls", quantity: 3 };
    const responses = await Promise.all(Array.from({ length: 20 }, () => post(payload)));
    expect(responses.map((response) => response.statusCode)).toEqual(Array(20).fill(200));
    const bodies = responses.map((response) => response.json());
    expect(bodies.filter((body) => body.duplicate === false)).toHaveLength(1);
    expect(new Set(bodies.map((body) => body.id)).size).toBe(1);
    expect(await rowsFor(id)).toHaveLength(1);
  });

  it("a product id resolves to the Stripe customer through its externalId", async () => {
    const id = usageId();
    const response = await post({ usage_id: id, customer: "user_alice", feature: "tokens", quantity: 2 });
    expect(response.statusCode).toBe(200);
    expect(response.json().customer).toBe("cus_alice");
    expect((await rowsFor(id))[0]!.customerId).toBe("cus_alice");
  });

  it("an unknown product id is a 404 customer_not_found and records nothing", async () => {
    const id = usageId();
    const response = await post({ usage_id: id, customer: "user_nobody", feature: "tokens", quantity: 2 });
    expect(response.statusCode).toBe(404);
    expect(response.json().error).toBe("customer_not_found");
    expect(await rowsFor(id)).toHaveLength(0);
  });

  it("a Stripe customer id not yet mirrored is accepted as is", async () => {
    const id = usageId();
    const response = await post({
      usage_id: id,
      customer: "cus_not_yet_seen",
      feature: "tokens",
      quantity: 2,
    });
    expect(response.statusCode).toBe(200);
    expect((await rowsFor(id))[0]!.customerId).toBe("cus_not_yet_seen");
  });

  it("no API key or a wrong one is a 401 and records nothing", async () => {
    const id = usageId();
    const payload = { usage_id: id, customer: "cus_alice", feature: "tokens", quantity: 2 };
    expect((await post(payload, {})).statusCode).toBe(401);
    expect((await post(payload, { authorization: "Bearer nope" })).statusCode).toBe(401);
    expect(await rowsFor(id)).toHaveLength(0);
  });

  it('stores the decimal quantity "0.000001" exactly', async () => {
    const id = usageId();
    const response = await post({
      usage_id: id,
      customer: "cus_alice",
      feature: "tokens",
      quantity: "0.000001",
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().quantity).toBe("0.000001");
    const [row] = await t.db.$queryRaw<{ quantity: string }[]>`
      SELECT quantity::text AS quantity FROM ledger_entries WHERE "usageId" = ${id}`;
    expect(row!.quantity).toBe("0.000001000000");
  });

  it("rejects the JSON number 0.1 with a message asking for a decimal string", async () => {
    const id = usageId();
    const response = await post({ usage_id: id, customer: "cus_alice", feature: "tokens", quantity: 0.1 });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: "validation_failed" });
    expect(response.json().message).toMatch(/^quantity: .*decimal string/);
    expect(await rowsFor(id)).toHaveLength(0);
  });

  it.each([
    ["zero", { quantity: "0" }, /quantity: must be greater than zero/],
    ["negative", { quantity: "-1" }, /quantity: .*not a plain positive decimal/],
    ["too fine", { quantity: "0.0000000000001" }, /quantity: has more than 12 decimal places/],
    ["exponent", { quantity: "1e3" }, /quantity: .*not a plain positive decimal/],
    ["empty usage_id", { usage_id: "" }, /usage_id/],
    ["long usage_id", { usage_id: "x".repeat(256) }, /usage_id/],
    ["unknown feature", { feature: "gpu_minutes" }, /feature: unknown feature "gpu_minutes"/],
    ["future time", { timestamp: new Date(Date.now() + 10 * 60_000).toISOString() }, /timestamp: .*future/],
    ["bad time", { timestamp: "yesterday" }, /timestamp/],
  ])("rejects %s with a 400 naming the field", async (_name, override, message) => {
    const response = await post({
      usage_id: usageId(),
      customer: "cus_alice",
      feature: "tokens",
      quantity: "1",
      ...override,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toMatch(message);
  });

  it.each([
    ["sso", "boolean"],
    ["seats", "static"],
  ])(
    "refuses usage of the non-metered feature %s (type %s): it could never be reported",
    async (feature, type) => {
      const id = usageId();
      const response = await post({ usage_id: id, customer: "cus_alice", feature, quantity: 1 });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: "validation_failed" });
      expect(response.json().message).toBe(
        `feature: feature "${feature}" is not metered (type ${type}): usage can only be recorded for metered features`,
      );
      expect(await rowsFor(id)).toHaveLength(0);
    },
  );

  it("keeps the caller's timestamp (ISO or unix seconds) as the time the usage occurred", async () => {
    const iso = usageId();
    const unix = usageId();
    await post({
      usage_id: iso,
      customer: "cus_alice",
      feature: "tokens",
      quantity: 1,
      timestamp: "2026-11-30T12:00:00+01:00",
    });
    await post({
      usage_id: unix,
      customer: "cus_alice",
      feature: "tokens",
      quantity: 1,
      timestamp: 1796040000,
    });
    expect((await rowsFor(iso))[0]!.occurredAt.toISOString()).toBe("2026-11-30T11:00:00.000Z");
    expect((await rowsFor(unix))[0]!.occurredAt.toISOString()).toBe(
      new Date(1796040000 * 1000).toISOString(),
    );
  });
});

describe("POST /v1/usage (batch)", () => {
  it("records the good events although one is invalid and one is a duplicate", async () => {
    const duplicate = usageId();
    const conflict = usageId();
    const fresh = [usageId(), usageId()];
    await post({ usage_id: duplicate, customer: "cus_alice", feature: "tokens", quantity: 7 });
    await post({ usage_id: conflict, customer: "cus_alice", feature: "tokens", quantity: 7 });
    const response = await post({
      events: [
        { usage_id: fresh[0], customer: "cus_alice", feature: "tokens", quantity: "1.5" },
        { usage_id: "bad", customer: "cus_alice", feature: "tokens", quantity: 0.1 },
        { usage_id: duplicate, customer: "cus_alice", feature: "tokens", quantity: 7 },
        { usage_id: conflict, customer: "cus_alice", feature: "tokens", quantity: 8 },
        { usage_id: "ghost", customer: "user_ghost", feature: "tokens", quantity: 1 },
        { usage_id: fresh[1], customer: "user_alice", feature: "api_calls", quantity: 2 },
      ],
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.results.map((result: { status: string }) => result.status)).toEqual([
      "recorded",
      "invalid",
      "duplicate",
      "conflict",
      "invalid",
      "recorded",
    ]);
    expect(body.counts).toEqual({ recorded: 2, duplicate: 1, conflict: 1, invalid: 2 });
    expect(body.results[1]).toMatchObject({ usage_id: "bad", error: "validation_failed" });
    expect(body.results[1].message).toMatch(/quantity: .*decimal string/);
    expect(body.results[3]).toMatchObject({ error: "usage_conflict", differing_fields: ["quantity"] });
    expect(body.results[4]).toMatchObject({ usage_id: "ghost", error: "customer_not_found" });
    for (const id of fresh) expect(await rowsFor(id)).toHaveLength(1);
    expect((await rowsFor(fresh[0]!))[0]!.quantity.toFixed()).toBe("1.5");
    expect((await rowsFor(conflict))[0]!.quantity.toFixed()).toBe("7");
    expect(await rowsFor("bad")).toHaveLength(0);
    expect(await rowsFor("ghost")).toHaveLength(0);
  });

  it("a batch event for a non-metered feature is invalid and the others are recorded", async () => {
    const [good, bad] = [usageId(), usageId()];
    const response = await post({
      events: [
        { usage_id: bad, customer: "cus_alice", feature: "sso", quantity: 1 },
        { usage_id: good, customer: "cus_alice", feature: "tokens", quantity: 1 },
      ],
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().results[0]).toMatchObject({
      usage_id: bad,
      status: "invalid",
      error: "validation_failed",
      message:
        'feature: feature "sso" is not metered (type boolean): usage can only be recorded for metered features',
    });
    expect(response.json().results[1]).toMatchObject({ usage_id: good, status: "recorded" });
    expect(await rowsFor(bad)).toHaveLength(0);
    expect(await rowsFor(good)).toHaveLength(1);
  });

  it("a usage_id repeated inside one batch is recorded once", async () => {
    const id = usageId();
    const event = { usage_id: id, customer: "cus_alice", feature: "tokens", quantity: 4 };
    const response = await post({ events: [event, event, { ...event, quantity: 5 }] });
    expect(response.statusCode).toBe(200);
    expect(response.json().results.map((result: { status: string }) => result.status)).toEqual([
      "recorded",
      "duplicate",
      "conflict",
    ]);
    expect(await rowsFor(id)).toHaveLength(1);
  });

  it("answers 400 when every event failed validation", async () => {
    const response = await post({
      events: [
        { usage_id: usageId(), customer: "cus_alice", feature: "tokens", quantity: 0.5 },
        { usage_id: usageId(), customer: "cus_alice", feature: "nope", quantity: 1 },
      ],
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: "validation_failed", counts: { invalid: 2 } });
  });

  it("refuses more than 1000 events", async () => {
    const events = Array.from({ length: 1001 }, (_, index) => ({
      usage_id: `too_many_${index}`,
      customer: "cus_alice",
      feature: "tokens",
      quantity: 1,
    }));
    const response = await post({ events });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toMatch(/^events:/);
    expect(await t.db.ledgerEntry.count({ where: { usageId: { startsWith: "too_many_" } } })).toBe(0);
  });

  it("records a full batch of 1000 events in one request", async () => {
    const prefix = usageId();
    const events = Array.from({ length: 1000 }, (_, index) => ({
      usage_id: `${prefix}_${index}`,
      customer: index % 2 === 0 ? "cus_alice" : "user_alice",
      feature: "tokens",
      quantity: String(index + 1),
    }));
    const response = await post({ events });
    expect(response.statusCode).toBe(200);
    expect(response.json().counts).toEqual({ recorded: 1000, duplicate: 0, conflict: 0, invalid: 0 });
    expect(await t.db.ledgerEntry.count({ where: { usageId: { startsWith: `${prefix}_` } } })).toBe(1000);
  });
});
