import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseCatalog } from "../../../src/entitlements/catalog.js";
import { reportUnreportedUsage } from "../../../src/ledger/meter-reporter.js";
import { createTestApp, type TestApp } from "../../support/app.js";

const catalogFile = {
  features: {
    tokens: { type: "metered", stripe_meter_event_name: "llm_tokens" },
    api_calls: { type: "metered", stripe_meter_event_name: "api_calls" },
    sso: { type: "boolean" },
  },
  plans: [],
};

const STRIPE = "https://api.stripe.com";
let t: TestApp;

type SentEvent = { body: Record<string, string>; idempotencyKey: string | undefined };

/** Stripe answers each meter event with `reply`, and every request body is kept for the assertions. */
function stripeMeterEvents(reply: (body: Record<string, string>) => [number, object], times = 1) {
  const sent: SentEvent[] = [];
  const scope = nock(STRIPE)
    .post("/v1/billing/meter_events")
    .times(times)
    .reply(function (_uri, body) {
      const fields = Object.fromEntries(new URLSearchParams(String(body)));
      sent.push({ body: fields, idempotencyKey: this.req.headers["idempotency-key"] as string | undefined });
      const [status, json] = reply(fields);
      return [status, json, status >= 500 ? { "Stripe-Should-Retry": "false" } : {}];
    });
  return { sent, scope };
}

function accepted(body: Record<string, string>): [number, object] {
  return [
    200,
    {
      object: "billing.meter_event",
      created: 1764590400,
      event_name: body["event_name"],
      identifier: body["identifier"],
      livemode: false,
      payload: { stripe_customer_id: body["payload[stripe_customer_id]"], value: body["payload[value]"] },
      timestamp: Number(body["timestamp"]),
    },
  ];
}

function stripeError(status: number, message: string, code?: string): () => [number, object] {
  return () => [
    status,
    { error: { type: status >= 500 ? "api_error" : "invalid_request_error", message, code } },
  ];
}

const recent = new Date(Date.now() - 3_600_000);
recent.setMilliseconds(0);

async function usage(usageId: string, feature: string, quantity: string, occurredAt: Date = recent) {
  return t.db.ledgerEntry.create({
    data: { usageId, customerId: "cus_meter", feature, quantity, occurredAt, fingerprint: "f".repeat(64) },
  });
}

beforeAll(async () => {
  t = await createTestApp({
    extend: (ctx) => ({ ...ctx, catalog: parseCatalog(catalogFile, "test catalog") }),
  });
  nock.disableNetConnect();
});

beforeEach(async () => {
  await t.db.ledgerEntry.deleteMany();
});

afterEach(() => {
  nock.cleanAll();
});

afterAll(async () => {
  nock.enableNetConnect();
  await t?.close();
});

describe("reportUnreportedUsage", () => {
  it("sends each unreported row as a meter event identified by its usage_id and marks it reported", async () => {
    await usage("req_a", "tokens", "0.000001");
    await usage("req_b", "api_calls", "12");
    const stripe = stripeMeterEvents(accepted, 2);

    const report = await reportUnreportedUsage(t.ctx, { limit: 10 });

    expect(report).toEqual({ considered: 2, sent: 2, alreadySent: 0, rejected: 0, unavailable: null });
    expect(stripe.scope.isDone()).toBe(true);
    const byId = Object.fromEntries(stripe.sent.map((event) => [event.body["identifier"], event]));
    expect(byId["req_a"]!.body).toEqual({
      event_name: "llm_tokens",
      "payload[stripe_customer_id]": "cus_meter",
      "payload[value]": "0.000001",
      identifier: "req_a",
      timestamp: String(recent.getTime() / 1000),
    });
    expect(byId["req_b"]!.body).toMatchObject({ event_name: "api_calls", "payload[value]": "12" });
    expect(byId["req_a"]!.idempotencyKey).toBe("leakguard-meter-event-req_a");
    const rows = await t.db.ledgerEntry.findMany();
    for (const row of rows) {
      expect(row.reportedAt).not.toBeNull();
      expect(row.reportError).toBeNull();
    }

    // A second run finds nothing left to send (no Stripe interceptor is left: a request would fail).
    expect(await reportUnreportedUsage(t.ctx, { limit: 10 })).toMatchObject({
      considered: 0,
      unavailable: null,
    });
  });

  it("records Stripe's 400 on the row and never sends that row again", async () => {
    await usage("req_bad", "tokens", "5");
    const stripe = stripeMeterEvents(stripeError(400, "No such customer: 'cus_meter'", "resource_missing"));

    const report = await reportUnreportedUsage(t.ctx, { limit: 10 });

    expect(report).toMatchObject({ considered: 1, rejected: 1, sent: 0, unavailable: null });
    expect(stripe.sent).toHaveLength(1);
    const row = await t.db.ledgerEntry.findUniqueOrThrow({ where: { usageId: "req_bad" } });
    expect(row.reportedAt).toBeNull();
    expect(row.reportError).toBe("resource_missing: No such customer: 'cus_meter'");
    expect(await reportUnreportedUsage(t.ctx, { limit: 10 })).toMatchObject({
      considered: 0,
      unavailable: null,
    });
  });

  it("takes Stripe's duplicate-identifier rejection as proof the usage was already delivered", async () => {
    await usage("req_dup", "tokens", "5");
    stripeMeterEvents(stripeError(400, "An event already exists with identifier req_dup."));

    const report = await reportUnreportedUsage(t.ctx);

    expect(report).toMatchObject({ alreadySent: 1, rejected: 0 });
    const row = await t.db.ledgerEntry.findUniqueOrThrow({ where: { usageId: "req_dup" } });
    expect(row.reportedAt).not.toBeNull();
    expect(row.reportError).toBeNull();
  });

  it("leaves rows unreported, without an error, when Stripe is unavailable", async () => {
    await usage("req_later_1", "tokens", "1");
    await usage("req_later_2", "tokens", "2");
    stripeMeterEvents(stripeError(503, "Stripe is down"), 2);

    const report = await reportUnreportedUsage(t.ctx, { concurrency: 1 });

    expect(report.sent).toBe(0);
    expect(report.unavailable).toMatch(/503/);
    for (const row of await t.db.ledgerEntry.findMany()) {
      expect(row.reportedAt).toBeNull();
      expect(row.reportError).toBeNull();
    }
  });

  it("sends only metered features and skips rows already reported", async () => {
    await usage("req_sso", "sso", "1");
    await usage("req_unknown", "not_in_catalog", "1");
    const done = await usage("req_done", "tokens", "1");
    await t.db.ledgerEntry.update({ where: { id: done.id }, data: { reportedAt: new Date() } });

    expect(await reportUnreportedUsage(t.ctx)).toMatchObject({ considered: 0, sent: 0 });
  });

  it("sends oldest first and no more than the limit", async () => {
    await usage("req_1", "tokens", "1");
    await usage("req_2", "tokens", "2");
    await usage("req_3", "tokens", "3");
    const stripe = stripeMeterEvents(accepted, 2);

    const report = await reportUnreportedUsage(t.ctx, { limit: 2, concurrency: 1 });

    expect(report).toMatchObject({ considered: 2, sent: 2 });
    expect(stripe.sent.map((event) => event.body["identifier"])).toEqual(["req_1", "req_2"]);
    const left = await t.db.ledgerEntry.findMany({ where: { reportedAt: null } });
    expect(left.map((row) => row.usageId)).toEqual(["req_3"]);
  });

  it("keeps a usage_id longer than Stripe's 100 characters stable as a hashed identifier", async () => {
    const longId = `req_${"x".repeat(150)}`;
    await usage(longId, "tokens", "1");
    const stripe = stripeMeterEvents(accepted);

    await reportUnreportedUsage(t.ctx);

    const identifier = stripe.sent[0]!.body["identifier"]!;
    expect(identifier).toMatch(/^lgu_[0-9a-f]{64}$/);
    expect(identifier.length).toBeLessThanOrEqual(100);
  });
});
