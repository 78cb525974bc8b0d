import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processJobId } from "../../../src/ingest/event-queue.js";
import {
  processIngestMaintenanceJob,
  scheduleIngestMaintenance,
} from "../../../src/ingest/maintenance-jobs.js";
import { sweepOutbox } from "../../../src/ingest/sweep-outbox.js";
import { createRedis, type RedisConnection } from "../../../src/queue/connection.js";
import { assertNoEviction } from "../../../src/queue/queues.js";
import { startWorkers } from "../../../src/worker/start-workers.js";
import { anEvent, createIngestHarness, type IngestHarness } from "./ingest-harness.js";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A Redis of this file's own, with an eviction policy BullMQ must refuse; killed in afterAll. */
async function startPrivateRedis(): Promise<{
  url: string;
  client: RedisConnection;
  stop: () => Promise<void>;
}> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--maxmemory-policy",
      "allkeys-lru",
    ],
    { stdio: "ignore" },
  );
  const url = `redis://127.0.0.1:${port}`;
  const client = createRedis(url);
  // The server takes a moment to listen; the client retries until then.
  client.on("error", () => {});
  await client.ping();
  return {
    url,
    client,
    stop: async () => {
      client.disconnect();
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}

let down: IngestHarness;
let slow: IngestHarness;
let privateRedis: Awaited<ReturnType<typeof startPrivateRedis>>;

beforeAll(async () => {
  privateRedis = await startPrivateRedis();
  down = await createIngestHarness({ intakeRedisUrl: `redis://127.0.0.1:${await freePort()}` });
  slow = await createIngestHarness({ intakeRedisUrl: privateRedis.url });
});
afterAll(async () => {
  await Promise.allSettled([down?.close(), slow?.close()]);
  await privateRedis?.stop();
});

describe("intake while Redis is unreachable", () => {
  it("answers 2xx with the event stored as received, and the sweeper queues it once Redis works", async () => {
    const { id, body } = anEvent();
    const startedAt = Date.now();

    const response = await down.postEvent(body);

    expect(response.statusCode).toBe(200);
    expect(Date.now() - startedAt).toBeLessThan(1000);
    expect(await down.ctx.db.stripeEvent.findUniqueOrThrow({ where: { id } })).toMatchObject({
      status: "received",
      queuedAt: null,
    });
    expect(await down.ctx.queues.stripeEvents.getJob(processJobId(id, 0))).toBeUndefined();

    const swept = await sweepOutbox(down.ctx.db, { queue: down.ctx.queues.stripeEvents }, down.log, {
      receivedGraceMs: 0,
    });

    expect(swept).toEqual({ found: 1, enqueued: 1 });
    const row = await down.ctx.db.stripeEvent.findUniqueOrThrow({ where: { id } });
    expect(row.status).toBe("queued");
    expect(row.queuedAt).toBeInstanceOf(Date);
    expect((await down.ctx.queues.stripeEvents.getJob(processJobId(id, 0)))?.data).toEqual({
      eventId: id,
      force: false,
    });
  });

  it("leaves a just-received event to the request that is still enqueueing it", async () => {
    const { id, body } = anEvent();
    await down.postEvent(body);
    const swept = await sweepOutbox(down.ctx.db, { queue: down.ctx.queues.stripeEvents }, down.log);
    expect(swept.found).toBe(0);
    expect((await down.ctx.db.stripeEvent.findUniqueOrThrow({ where: { id } })).status).toBe("received");
  });
});

describe("intake while Redis does not answer in time", () => {
  it("gives up on the enqueue after its timeout and still answers 2xx", async () => {
    // First a normal delivery, so the intake connection is up before Redis stalls.
    expect((await slow.postEvent(anEvent().body)).statusCode).toBe(200);
    await privateRedis.client.call("CLIENT", "PAUSE", "4000", "WRITE");
    const { id, body } = anEvent();

    const response = await slow.postEvent(body);

    expect(response.statusCode).toBe(200);
    expect((await slow.ctx.db.stripeEvent.findUniqueOrThrow({ where: { id } })).status).toBe("received");
  });
});

describe("the outbox sweeper", () => {
  it("re-adds the job of an event queued long ago whose job is gone, and never duplicates a waiting one", async () => {
    const lost = anEvent();
    const waiting = anEvent();
    await down.postEvent(lost.body);
    await down.postEvent(waiting.body);
    const longAgo = new Date(Date.now() - 60 * 60_000);
    await down.ctx.db.stripeEvent.updateMany({
      where: { id: { in: [lost.id, waiting.id] } },
      data: { status: "queued", queuedAt: longAgo },
    });
    await down.ctx.queues.stripeEvents.add(
      "process-stripe-event",
      { eventId: waiting.id },
      {
        jobId: processJobId(waiting.id, 0),
      },
    );

    const swept = await sweepOutbox(down.ctx.db, { queue: down.ctx.queues.stripeEvents }, down.log);

    expect(swept).toEqual({ found: 2, enqueued: 2 });
    expect(await down.ctx.queues.stripeEvents.getJob(processJobId(lost.id, 0))).toBeDefined();
    const jobs = await down.ctx.queues.stripeEvents.getJobs(["waiting"]);
    expect(jobs.filter((job) => job.data.eventId === waiting.id)).toHaveLength(1);
    const rows = await down.ctx.db.stripeEvent.findMany({ where: { id: { in: [lost.id, waiting.id] } } });
    for (const row of rows) expect(row.queuedAt!.getTime()).toBeGreaterThan(longAgo.getTime());
  });
});

describe("intake maintenance on the maintenance queue", () => {
  it("schedules the sweep and the recent backfill once, however many workers start", async () => {
    await scheduleIngestMaintenance(down.ctx);
    await scheduleIngestMaintenance(down.ctx);

    const schedulers = await down.ctx.queues.maintenance.getJobSchedulers();
    expect(schedulers.map((scheduler) => [scheduler.key, scheduler.every]).sort()).toEqual([
      ["backfill-recent-events", 3_600_000],
      ["sweep-outbox", 60_000],
    ]);
  });

  it("runs the sweep job, and refuses a job name it does not know, permanently", async () => {
    const { id, body } = anEvent();
    await down.postEvent(body);
    await down.ctx.db.stripeEvent.update({
      where: { id },
      data: { receivedAt: new Date(Date.now() - 60_000) },
    });
    const sweep = await down.ctx.queues.maintenance.add("sweep-outbox", {});
    const unknown = await down.ctx.queues.maintenance.add("polish-the-brass", {});

    const result = await processIngestMaintenanceJob(down.ctx, sweep, down.log);

    expect(result).toMatchObject({ enqueued: expect.any(Number) });
    expect((await down.ctx.db.stripeEvent.findUniqueOrThrow({ where: { id } })).status).toBe("queued");
    await expect(processIngestMaintenanceJob(down.ctx, unknown, down.log)).rejects.toMatchObject({
      code: "unknown_job",
    });
  });
});

describe("worker start", () => {
  it("refuses a Redis whose maxmemory-policy is not noeviction", async () => {
    await expect(assertNoEviction(privateRedis.client)).rejects.toThrow(/maxmemory-policy is "allkeys-lru"/);
    await expect(startWorkers({ ...down.ctx, redis: privateRedis.client })).rejects.toThrow(/noeviction/);
  });

  it("accepts a Redis with noeviction", async () => {
    await expect(assertNoEviction(down.ctx.redis)).resolves.toBeUndefined();
  });
});
