import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "../../../src/errors.js";
import { type ApplyStripeEvent, processStripeEvent } from "../../../src/ingest/process-event-job.js";
import type { SyncOutcome } from "../../../src/sync/types.js";
import { anEvent, createIngestHarness, eventually, type IngestHarness } from "./ingest-harness.js";

let h: IngestHarness;
beforeAll(async () => {
  h = await createIngestHarness();
});
afterAll(async () => {
  await h.close();
});

/** An apply that records every call and answers with the given outcome. */
function recording(outcome: SyncOutcome): ApplyStripeEvent & { calls: string[] } {
  const calls: string[] = [];
  const apply = async (_ctx: unknown, event: { id: string }) => {
    calls.push(event.id);
    return outcome;
  };
  return Object.assign(apply, { calls });
}

async function storedEvent(overrides: Parameters<typeof anEvent>[0] = {}): Promise<string> {
  const { id, body } = anEvent(overrides);
  const response = await h.postEvent(body);
  expect(response.statusCode).toBe(200);
  return id;
}

const row = (id: string) => h.ctx.db.stripeEvent.findUniqueOrThrow({ where: { id } });

describe("processStripeEvent", () => {
  it("hands sync the stored event and records processed; a second run is a no-op", async () => {
    const id = await storedEvent({ type: "customer.updated", created: 1_790_000_000 });
    const seen: unknown[] = [];
    const apply: ApplyStripeEvent = async (_ctx, event) => {
      seen.push(event);
      return { status: "applied" };
    };

    const first = await processStripeEvent(h.ctx, id, h.log, { apply });
    const second = await processStripeEvent(h.ctx, id, h.log, { apply });

    expect(first).toMatchObject({ status: "processed", attempts: 1, skipped: false });
    expect(second).toMatchObject({ status: "processed", attempts: 1, skipped: true });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      id,
      type: "customer.updated",
      apiVersion: "2026-11-18.endive",
      created: new Date(1_790_000_000_000),
      payload: { id, object: "event", data: { object: { id: "cus_ingest_test" } } },
    });
    const stored = await row(id);
    expect(stored).toMatchObject({ status: "processed", attempts: 1, lastError: null });
    expect(stored.processedAt).toBeInstanceOf(Date);
  });

  it.each<[string, SyncOutcome, Record<string, unknown>]>([
    [
      "skipped as stale",
      { status: "skipped", reason: "stale" },
      { status: "processed", ignoredReason: "skipped: stale" },
    ],
    [
      "ignored",
      { status: "ignored", reason: "no handler for issuing_card.created" },
      { status: "ignored", ignoredReason: "no handler for issuing_card.created" },
    ],
    [
      "unsupported",
      { status: "unsupported", reason: "data.object has no customer" },
      { status: "unsupported", lastError: "data.object has no customer" },
    ],
  ])("records an event sync reports %s", async (_label, outcome, expected) => {
    const id = await storedEvent();
    await processStripeEvent(h.ctx, id, h.log, { apply: recording(outcome) });
    expect(await row(id)).toMatchObject({ attempts: 1, ...expected });
  });

  it("leaves an ignored event alone unless forced, then applies it again", async () => {
    const id = await storedEvent();
    await processStripeEvent(h.ctx, id, h.log, {
      apply: recording({ status: "ignored", reason: "not yet handled" }),
    });
    const later = recording({ status: "applied" });

    await processStripeEvent(h.ctx, id, h.log, { apply: later });
    expect(later.calls).toHaveLength(0);
    await processStripeEvent(h.ctx, id, h.log, { apply: later, force: true });

    expect(later.calls).toEqual([id]);
    expect(await row(id)).toMatchObject({ status: "processed", attempts: 2, ignoredReason: null });
  });

  it("records failed with the error and attempts, and rethrows so the queue retries", async () => {
    const id = await storedEvent();
    const apply: ApplyStripeEvent = async () => {
      throw new Error("connection reset while writing the mirror");
    };

    await expect(processStripeEvent(h.ctx, id, h.log, { apply })).rejects.toThrow("connection reset");

    expect(await row(id)).toMatchObject({
      status: "failed",
      attempts: 1,
      lastError: "Error: connection reset while writing the mirror",
    });
  });

  it("records a domain error as failed with its code", async () => {
    const id = await storedEvent();
    const apply: ApplyStripeEvent = async () => {
      throw new DomainError("price_not_found", "price price_x is not mirrored");
    };
    await expect(processStripeEvent(h.ctx, id, h.log, { apply })).rejects.toBeInstanceOf(DomainError);
    expect((await row(id)).lastError).toBe("price_not_found: price price_x is not mirrored");
  });

  it("refuses an event id that is not stored, permanently", async () => {
    await expect(processStripeEvent(h.ctx, "evt_never_stored", h.log)).rejects.toMatchObject({
      code: "event_not_found",
    });
  });

  it("applies an event once when two jobs for it run at the same time", async () => {
    const id = await storedEvent();
    const calls: string[] = [];
    const apply: ApplyStripeEvent = async (_ctx, event) => {
      calls.push(event.id);
      // Long enough that the second job's claim surely comes while this one is still applying.
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { status: "applied" };
    };

    const results = await Promise.allSettled([
      processStripeEvent(h.ctx, id, h.log, { apply }),
      processStripeEvent(h.ctx, id, h.log, { apply }),
    ]);

    expect(calls).toEqual([id]);
    // The job that found the event claimed fails transiently; its retry finds the event handled.
    const rejected = results.find((result) => result.status === "rejected");
    expect(rejected?.reason).toMatchObject({
      message: expect.stringContaining("being applied by another job"),
    });
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    const retry = await processStripeEvent(h.ctx, id, h.log, { apply });
    expect(retry).toMatchObject({ status: "processed", skipped: true });
    expect(calls).toEqual([id]);
    expect(await row(id)).toMatchObject({ status: "processed", attempts: 1, processingUntil: null });
  });

  it("takes over an event whose claim expired (its worker died mid-apply)", async () => {
    const id = await storedEvent();
    await h.ctx.db.stripeEvent.update({
      where: { id },
      data: { attempts: 1, processingUntil: new Date(Date.now() - 1000) },
    });
    const apply = recording({ status: "applied" });

    const result = await processStripeEvent(h.ctx, id, h.log, { apply });

    expect(result).toMatchObject({ status: "processed", attempts: 2, skipped: false });
    expect(apply.calls).toEqual([id]);
  });

  it("goes through the real sync entry point for an event type leakguard does not act on", async () => {
    const id = await storedEvent({
      type: "issuing_card.created",
      object: { id: "ic_1", object: "issuing.card" },
    });
    await processStripeEvent(h.ctx, id, h.log);
    const stored = await row(id);
    expect(stored.status).toBe("ignored");
    expect(stored.ignoredReason).toContain("issuing_card.created");
  });
});

describe("the process-stripe-event worker", () => {
  it("records failed after a throwing first attempt, then processed on the queue's retry", async () => {
    const { id, body } = anEvent();
    let attemptsSeen = 0;
    // Earlier tests left jobs in this queue; only this event's first attempt throws.
    const worker = h.startWorker(async (_ctx, event) => {
      if (event.id !== id) return { status: "applied" };
      attemptsSeen += 1;
      if (attemptsSeen === 1) throw new Error("mirror write timed out");
      return { status: "applied" };
    });
    try {
      expect((await h.postEvent(body)).statusCode).toBe(200);
      const failed = await eventually(async () => {
        const current = await row(id);
        return current.status === "failed" ? current : undefined;
      });
      expect(failed).toMatchObject({ attempts: 1, lastError: "Error: mirror write timed out" });

      const processed = await eventually(async () => {
        const current = await row(id);
        return current.status === "processed" ? current : undefined;
      });
      expect(processed).toMatchObject({ attempts: 2, lastError: null });
    } finally {
      await worker.stop();
    }
  });
});
