import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processJobId } from "../../../src/ingest/event-queue.js";
import { type ApplyStripeEvent, processStripeEvent } from "../../../src/ingest/process-event-job.js";
import { replayStripeEvent } from "../../../src/ingest/replay-event.js";
import { anEvent, createIngestHarness, eventually, type IngestHarness } from "./ingest-harness.js";

const run = promisify(execFile);

let h: IngestHarness;
beforeAll(async () => {
  h = await createIngestHarness();
});
afterAll(async () => {
  await h.close();
});

const failing: ApplyStripeEvent = async () => {
  throw new Error("mirror unavailable");
};
const row = (id: string) => h.ctx.db.stripeEvent.findUniqueOrThrow({ where: { id } });
const target = () => ({ queue: h.ctx.queues.stripeEvents });

/** Stores an event by webhook and makes its first processing fail. */
async function failedEvent(): Promise<{ id: string; body: string }> {
  const event = anEvent();
  expect((await h.postEvent(event.body)).statusCode).toBe(200);
  await expect(processStripeEvent(h.ctx, event.id, h.log, { apply: failing })).rejects.toThrow();
  expect(await row(event.id)).toMatchObject({ status: "failed", attempts: 1 });
  return event;
}

/** Runs a worker until the event is processed (at the given attempt count, if any). */
async function processedBy(id: string, apply: ApplyStripeEvent, attempts?: number) {
  const worker = h.startWorker(apply);
  try {
    return await eventually(async () => {
      const current = await row(id);
      const done =
        current.status === "processed" && (attempts === undefined || current.attempts === attempts);
      return done ? current : undefined;
    });
  } finally {
    await worker.stop();
  }
}

describe("replayStripeEvent", () => {
  it("re-enqueues a failed event past a finished leftover job holding the same id", async () => {
    const { id } = await failedEvent();
    const jobId = processJobId(id, 1, "replay");
    // A leftover: a finished job already holding the id this replay will use (its run found no such event).
    await h.ctx.queues.stripeEvents.remove(processJobId(id, 0));
    await h.ctx.queues.stripeEvents.add("process-stripe-event", { eventId: "evt_leftover" }, { jobId });
    const worker = h.startWorker(async () => ({ status: "applied" }));
    try {
      await eventually(async () =>
        (await h.ctx.queues.stripeEvents.getJobState(jobId)) === "failed" ? true : undefined,
      );
    } finally {
      await worker.stop();
    }

    const result = await replayStripeEvent(h.ctx.db, target(), id, h.log);

    expect(result).toEqual({ eventId: id, previousStatus: "failed", jobId });
    const job = await h.ctx.queues.stripeEvents.getJob(jobId);
    expect(job?.data).toEqual({ eventId: id, force: true });
    expect(await job?.getState()).toBe("waiting");
    expect((await row(id)).status).toBe("queued");
    const applied: string[] = [];
    const processed = await processedBy(id, async (_ctx, event) => {
      applied.push(event.id);
      return { status: "applied" };
    });
    expect(processed.attempts).toBe(2);
    expect(applied.filter((eventId) => eventId === id)).toHaveLength(1);
  });

  it("applies a processed event again only with force", async () => {
    const { id, body } = anEvent();
    await h.postEvent(body);
    await processStripeEvent(h.ctx, id, h.log, { apply: async () => ({ status: "applied" }) });

    await expect(replayStripeEvent(h.ctx.db, target(), id, h.log)).rejects.toMatchObject({
      code: "event_already_processed",
    });
    const result = await replayStripeEvent(h.ctx.db, target(), id, h.log, { force: true });

    expect(result.previousStatus).toBe("processed");
    // Still processed while the forced job waits: a leftover job of this event must not re-apply it too.
    expect((await row(id)).status).toBe("processed");
    const reapplied = await processedBy(id, async () => ({ status: "applied" }), 2);
    expect(reapplied.attempts).toBe(2);
  });

  it("refuses an event that is not stored", async () => {
    await expect(replayStripeEvent(h.ctx.db, target(), "evt_not_stored", h.log)).rejects.toMatchObject({
      code: "event_not_found",
    });
  });
});

describe("a redelivery by Stripe of a failed event", () => {
  it("re-enqueues it under a new job id and it is then applied once", async () => {
    const { id, body } = await failedEvent();

    const response = await h.postEvent(body);

    expect(response.statusCode).toBe(200);
    expect(await row(id)).toMatchObject({ status: "queued", deliveryCount: 2 });
    expect(await h.ctx.queues.stripeEvents.getJob(processJobId(id, 1))).toBeDefined();
    const applied: string[] = [];
    const processed = await processedBy(id, async (_ctx, event) => {
      applied.push(event.id);
      return { status: "applied" };
    });
    expect(processed.attempts).toBe(2);
    expect(applied.filter((eventId) => eventId === id)).toHaveLength(1);
  });
});

describe("leakguard events replay", () => {
  const cli = (args: string[]) =>
    run(process.execPath, ["--import", "tsx", "src/cli/main.ts", "events", ...args], {
      env: {
        ...process.env,
        DATABASE_URL: h.ctx.config.databaseUrl,
        REDIS_URL: h.ctx.config.redisUrl,
        LEAKGUARD_QUEUE_PREFIX: h.ctx.config.queuePrefix,
        LOG_LEVEL: "silent",
      },
    });

  it("re-enqueues a failed event and says so", async () => {
    const { id } = await failedEvent();
    const { stdout } = await cli(["replay", id]);
    expect(stdout.trim()).toBe(`replayed ${id} (was failed); job ${processJobId(id, 1, "replay")}`);
    expect((await row(id)).status).toBe("queued");
  });

  it("exits 1 with a one-line reason for an unknown event", async () => {
    const failure = await cli(["replay", "evt_unknown_cli"]).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({
      code: 1,
      stderr: "leakguard: stripe event evt_unknown_cli is not stored\n",
    });
  });
});
