import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createIntakeStore,
  type IntakeStore,
  type WebhookDelivery,
} from "../../../src/ingest/intake-store.js";
import { parseEventEnvelope } from "../../../src/stripe/normalize/event-envelope.js";
import { createTestDb, type TestDb } from "../../support/db.js";
import { anEvent } from "./ingest-harness.js";

let testDb: TestDb;
let store: IntakeStore;
beforeAll(async () => {
  testDb = await createTestDb();
  store = createIntakeStore(testDb.url);
});
afterAll(async () => {
  await store.close();
  await testDb.drop();
});

function delivery(body: string): WebhookDelivery {
  const parsed = parseEventEnvelope(JSON.parse(body));
  if (!parsed.ok) throw new Error(parsed.reason);
  return { event: parsed.event, body };
}

async function rowsFor(ids: string[]) {
  return testDb.db.stripeEvent.findMany({ where: { id: { in: ids } }, orderBy: { id: "asc" } });
}

describe("intake store group commit", () => {
  it("stores deliveries made together, each answered with its own row, duplicates counted", async () => {
    const events = Array.from({ length: 40 }, () => anEvent());
    const twice = events.slice(0, 5);
    const all = [...events, ...twice].map((event) => delivery(event.body));

    const stored = await Promise.all(all.map((entry) => store.saveDelivery(entry)));
    const twiceIds = new Set(twice.map((event) => event.id));

    expect(stored.map((row) => row.id)).toEqual(all.map((entry) => entry.event.id));
    for (const row of stored) expect(row).toMatchObject({ status: "queued", attempts: 0 });
    // One delivery of each event inserts it (already marked queued); any other only counts, whichever is first.
    const outcomesById = new Map<string, string[]>();
    for (const row of stored) {
      const outcome = `${row.inserted ? "inserted" : "counted"} ${row.deliveryCount}`;
      outcomesById.set(row.id, [...(outcomesById.get(row.id) ?? []), outcome].sort());
    }
    for (const event of events) {
      const expected = twiceIds.has(event.id) ? ["counted 2", "inserted 1"] : ["inserted 1"];
      expect(outcomesById.get(event.id)).toEqual(expected);
    }
    const rows = await rowsFor(events.map((event) => event.id));
    expect(rows).toHaveLength(40);
    for (const row of rows) expect(row.deliveryCount).toBe(twiceIds.has(row.id) ? 2 : 1);
  });

  it("fails only the delivery Postgres refuses when it shares a batch with others", async () => {
    const good = Array.from({ length: 6 }, () => anEvent());
    // jsonb cannot hold U+0000: Postgres refuses this body, signed or not.
    const poison = anEvent({ object: { id: "cus_poison", object: "customer", name: "nul\u0000byte" } });
    const all = [...good.slice(0, 3), poison, ...good.slice(3)];

    const outcomes = await Promise.allSettled(all.map((event) => store.saveDelivery(delivery(event.body))));

    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
      "fulfilled",
      "fulfilled",
    ]);
    expect(await rowsFor([poison.id])).toHaveLength(0);
    expect(await rowsFor(good.map((event) => event.id))).toHaveLength(6);
  });

  it("takes back the queued mark of a new event no worker has taken, and never of one a worker took", async () => {
    const untaken = await store.saveDelivery(delivery(anEvent().body));
    const taken = await store.saveDelivery(delivery(anEvent().body));
    await testDb.db.stripeEvent.update({ where: { id: taken.id }, data: { attempts: 1 } });

    await Promise.all([store.unmarkQueued(untaken), store.unmarkQueued(taken)]);

    const [first, second] = await Promise.all(
      [untaken.id, taken.id].map((id) => testDb.db.stripeEvent.findUniqueOrThrow({ where: { id } })),
    );
    expect(first).toMatchObject({ status: "received", queuedAt: null });
    expect(second).toMatchObject({ status: "queued", attempts: 1 });
    expect(second!.queuedAt).toBeInstanceOf(Date);
  });
});
