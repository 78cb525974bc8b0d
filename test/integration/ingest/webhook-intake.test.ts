import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processJobId } from "../../../src/ingest/event-queue.js";
import { signWebhookPayload } from "../../../src/stripe/webhook-signature.js";
import type { StoredStripeEvent } from "../../../src/sync/types.js";
import { databaseUrl } from "../../support/env.js";
import {
  anEvent,
  createIngestHarness,
  eventually,
  type IngestHarness,
  newEventId,
  PREVIOUS_WEBHOOK_SECRET,
  WEBHOOK_SECRET,
} from "./ingest-harness.js";

const FIXTURES = join(import.meta.dirname, "../../fixtures/stripe/events");

let h: IngestHarness;
beforeAll(async () => {
  h = await createIngestHarness();
});
afterAll(async () => {
  await h.close();
});

async function rowsFor(id: string) {
  return h.ctx.db.stripeEvent.findMany({ where: { id } });
}

describe("POST /webhooks/stripe", () => {
  const fixtures = readdirSync(FIXTURES).filter((name) => name.endsWith(".json"));

  it.each(fixtures)("stores and enqueues the real payload %s", async (name) => {
    const raw = readFileSync(join(FIXTURES, name), "utf8");
    const original = JSON.parse(raw) as { id: string; type: string; created: number; api_version: string };
    // Fixtures share ids across files; give each its own while keeping the exact bytes otherwise.
    const id = newEventId();
    const body = raw.replace(`"id": "${original.id}"`, `"id": "${id}"`);

    const response = await h.postEvent(body);

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ received: true });
    const [row, ...others] = await rowsFor(id);
    expect(others).toHaveLength(0);
    expect(row).toMatchObject({
      type: original.type,
      apiVersion: original.api_version,
      stripeCreated: new Date(original.created * 1000),
      source: "webhook",
      deliveryCount: 1,
      status: "queued",
      attempts: 0,
    });
    expect(row!.payload).toEqual(JSON.parse(body));
    const job = await h.ctx.queues.stripeEvents.getJob(processJobId(id, 0));
    expect(job?.name).toBe("process-stripe-event");
    expect(job?.data).toEqual({ eventId: id, force: false });
  });

  it("keeps the object id of the event for lookups", async () => {
    const { id, body } = anEvent({ object: { id: "sub_lookup_1", object: "subscription" } });
    await h.postEvent(body);
    expect((await rowsFor(id))[0]?.objectId).toBe("sub_lookup_1");
  });

  it("stores the body as signed, not a re-serialisation: a number past double precision keeps its digits", async () => {
    const { id, body } = anEvent();
    const exact = body.replace(
      '"livemode": false,',
      '"livemode": false,\n  "sequence": 12345678901234567890123,',
    );
    expect(exact).not.toBe(body);

    expect((await h.postEvent(exact)).statusCode).toBe(200);

    const rows = await h.ctx.db.$queryRaw<{ sequence: string }[]>`
      SELECT payload->>'sequence' AS sequence FROM stripe_events WHERE id = ${id}`;
    expect(rows).toEqual([{ sequence: "12345678901234567890123" }]);
  });

  it("stores a delivered-twice event once, counting deliveries, with one job", async () => {
    const { id, body } = anEvent();
    const first = await h.postEvent(body);
    const second = await h.postEvent(body);

    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    const rows = await rowsFor(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ deliveryCount: 2, status: "queued", attempts: 0 });
    expect(rows[0]!.lastDeliveredAt.getTime()).toBeGreaterThanOrEqual(rows[0]!.receivedAt.getTime());
    const jobs = await h.ctx.queues.stripeEvents.getJobs([
      "waiting",
      "active",
      "completed",
      "failed",
      "delayed",
    ]);
    expect(jobs.filter((job) => job.data.eventId === id)).toHaveLength(1);
  });

  it("stores the same event posted twice at once as one row with one processing effect", async () => {
    const { id, body } = anEvent();
    const responses = await Promise.all([h.postEvent(body), h.postEvent(body)]);

    expect(responses.map((response) => response.statusCode)).toEqual([200, 200]);
    const rows = await rowsFor(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.deliveryCount).toBe(2);

    const applied: string[] = [];
    const worker = h.startWorker(async (_ctx, event: StoredStripeEvent) => {
      applied.push(event.id);
      return { status: "applied" };
    });
    try {
      const row = await eventually(async () => {
        const current = (await rowsFor(id))[0];
        return current?.status === "processed" ? current : undefined;
      });
      expect(row.attempts).toBe(1);
      // Let any second job (there must be none) run before counting effects.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(applied.filter((eventId) => eventId === id)).toHaveLength(1);
    } finally {
      await worker.stop();
    }
  });

  it("answers many deliveries at once, duplicates included, with one row and one job per event", async () => {
    const events = Array.from({ length: 30 }, () => anEvent());
    const posts = [...events, ...events.slice(0, 6)].map((event) => h.postEvent(event.body));

    const responses = await Promise.all(posts);

    expect(responses.every((response) => response.statusCode === 200)).toBe(true);
    const rows = await h.ctx.db.stripeEvent.findMany({
      where: { id: { in: events.map((event) => event.id) } },
    });
    expect(rows).toHaveLength(30);
    const duplicated = new Set(events.slice(0, 6).map((event) => event.id));
    for (const row of rows) {
      expect(row).toMatchObject({ status: "queued", deliveryCount: duplicated.has(row.id) ? 2 : 1 });
    }
    const jobs = await h.ctx.queues.stripeEvents.getJobs(["waiting"]);
    for (const event of events) expect(jobs.filter((job) => job.data.eventId === event.id)).toHaveLength(1);
  });

  it("stores an event whose strings jsonb cannot hold (NUL, lone surrogates) with U+FFFD in their place, and its batch", async () => {
    const good = Array.from({ length: 4 }, () => anEvent());
    // jsonb refuses U+0000 and a lone surrogate: stored as received, Stripe would retry this event until it gave up.
    const unstorable = anEvent({
      object: {
        id: "cus_unstorable",
        object: "customer",
        name: "nul\u0000byte",
        "key\ud800": "lone \udc00 low",
      },
    });
    // An escaped backslash before "u0000" is six plain characters: stored exactly as sent.
    const plain = anEvent({ object: { id: "cus_plain", object: "customer", name: "\\u0000" } });

    const responses = await Promise.all([...good, unstorable, plain].map((event) => h.postEvent(event.body)));

    expect(responses.map((response) => response.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
    for (const event of good) expect(await rowsFor(event.id)).toHaveLength(1);
    const rows = await h.ctx.db.$queryRaw<{ id: string; object: unknown }[]>`
      SELECT id, payload->'data'->'object' AS object FROM stripe_events WHERE id IN (${unstorable.id}, ${plain.id})`;
    const objectOf = (id: string) => rows.find((row) => row.id === id)?.object;
    expect(objectOf(unstorable.id)).toEqual({
      id: "cus_unstorable",
      object: "customer",
      name: "nul\uFFFDbyte",
      "key\uFFFD": "lone \uFFFD low",
    });
    expect(objectOf(plain.id)).toEqual({ id: "cus_plain", object: "customer", name: "\\u0000" });
  });

  it("restores the job of a queued event no worker has taken when Stripe delivers it again", async () => {
    // As left by a process that stopped between storing the event and adding its job (no 2xx, so Stripe retries).
    const { id, body } = anEvent();
    await h.ctx.db.stripeEvent.create({
      data: {
        id,
        type: "customer.updated",
        stripeCreated: new Date(),
        payload: JSON.parse(body),
        status: "queued",
        queuedAt: new Date(),
      },
    });
    expect(await h.ctx.queues.stripeEvents.getJob(processJobId(id, 0))).toBeUndefined();

    expect((await h.postEvent(body)).statusCode).toBe(200);

    expect((await h.ctx.queues.stripeEvents.getJob(processJobId(id, 0)))?.data).toEqual({
      eventId: id,
      force: false,
    });
    expect((await rowsFor(id))[0]).toMatchObject({ status: "queued", deliveryCount: 2, attempts: 0 });
  });

  it("adds no job when Stripe delivers again an event a worker has already taken", async () => {
    const { id, body } = anEvent();
    expect((await h.postEvent(body)).statusCode).toBe(200);
    await h.ctx.db.stripeEvent.update({ where: { id }, data: { attempts: 1 } });

    expect((await h.postEvent(body)).statusCode).toBe(200);

    expect(await h.ctx.queues.stripeEvents.getJob(processJobId(id, 1))).toBeUndefined();
    const jobs = await h.ctx.queues.stripeEvents.getJobs(["waiting", "active", "delayed"]);
    expect(jobs.filter((job) => job.data.eventId === id)).toHaveLength(1);
  });

  it("accepts an event signed with the previous secret of a rotation", async () => {
    const { id, body } = anEvent();
    const response = await h.postEvent(body, { secret: PREVIOUS_WEBHOOK_SECRET });
    expect(response.statusCode).toBe(200);
    expect(await rowsFor(id)).toHaveLength(1);
  });

  it.each([
    ["a flipped byte", (body: string) => body.replace('"customer.updated"', '"customer.updatee"')],
    ["a re-serialised body", (body: string) => JSON.stringify(JSON.parse(body))],
  ])("rejects %s with 400 and stores nothing", async (_label, tamper) => {
    const { id, body } = anEvent();
    const header = signWebhookPayload(body, WEBHOOK_SECRET);
    const tampered = tamper(body);
    expect(tampered).not.toBe(body);

    const response = await h.postEvent(tampered, { header });

    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: "invalid_webhook", message: "signature does not match" });
    expect(await rowsFor(id)).toHaveLength(0);
  });

  it("rejects a body signed with an unknown secret, without describing our secrets", async () => {
    const { id, body } = anEvent();
    const response = await h.postEvent(body, { secret: "whsec_someone_else" });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toBe("signature does not match");
    expect(await rowsFor(id)).toHaveLength(0);
  });

  it("rejects a request without a Stripe-Signature header", async () => {
    const { id, body } = anEvent();
    const response = await h.app.inject({
      method: "POST",
      url: "/webhooks/stripe",
      headers: { "content-type": "application/json" },
      payload: body,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toBe("missing Stripe-Signature header");
    expect(await rowsFor(id)).toHaveLength(0);
  });

  it("accepts a signature 299 s old and rejects one 301 s old (tolerance 300 s)", async () => {
    const now = Math.floor(Date.now() / 1000);
    const fresh = anEvent();
    const stale = anEvent();

    const accepted = await h.postEvent(fresh.body, { timestamp: now - 299 });
    const rejected = await h.postEvent(stale.body, { timestamp: now - 301 });

    expect(accepted.statusCode).toBe(200);
    expect(rejected.statusCode).toBe(400);
    expect(rejected.json().message).toBe("timestamp outside the tolerance window");
    expect(await rowsFor(fresh.id)).toHaveLength(1);
    expect(await rowsFor(stale.id)).toHaveLength(0);
  });

  it.each([
    ["a JSON object that is not an event", JSON.stringify({ hello: "world" })],
    ["an id that is not an event id", anEvent({ id: "cus_not_an_event" }).body],
    ["a body that is not JSON", "event=evt_123"],
  ])("rejects %s, even correctly signed, with 400", async (_label, body) => {
    const before = await h.ctx.db.stripeEvent.count();
    const response = await h.postEvent(body);
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toMatch(/^not a Stripe event/);
    expect(await h.ctx.db.stripeEvent.count()).toBe(before);
  });

  it("stores an event type leakguard does not act on and answers 2xx", async () => {
    const { id, body } = anEvent({
      type: "issuing_card.created",
      object: { id: "ic_1", object: "issuing.card" },
    });
    const response = await h.postEvent(body);
    expect(response.statusCode).toBe(200);
    expect((await rowsFor(id))[0]?.type).toBe("issuing_card.created");
  });
});

describe("POST /webhooks/stripe when the database is unavailable", () => {
  let broken: IngestHarness;
  beforeAll(async () => {
    broken = await createIngestHarness({
      extend: (ctx) => ({
        ...ctx,
        config: Object.freeze({ ...ctx.config, databaseUrl: databaseUrl("leakguard_missing_database") }),
      }),
    });
  });
  afterAll(async () => {
    await broken.close();
  });

  it("answers 500 so that Stripe retries", async () => {
    const response = await broken.postEvent(anEvent().body);
    expect(response.statusCode).toBe(500);
  });
});
