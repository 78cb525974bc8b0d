import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signWebhookPayload } from "../../../src/stripe/webhook-signature.js";
import type { Json } from "../../support/builders.js";
import { buildCustomerLifecycle } from "./customer-lifecycle.js";
import { accessLogProblems, accessState, mirroredState } from "./lifecycle-state.js";
import { serveObjectsFrom } from "./stripe-fake.js";
import { createSyncHarness, type SyncHarness } from "./sync-harness.js";

const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const WORKERS = 4;
const WEBHOOK_SECRET = "whsec_worker_processes_test";

let harness: SyncHarness;
let stripeStandIn: Server;
let stripeBase = "";
/** What the worker processes' Stripe reads return: each object's state after the lifecycle's last event. */
const stripeObjects = new Map<string, Json>();
const workers: { child: ChildProcess; output: string[] }[] = [];

beforeAll(async () => {
  harness = await createSyncHarness({ STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET });
  serveObjectsFrom(stripeObjects);
  stripeStandIn = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://stand-in").pathname;
    const [, , collection, id] = path.split("/");
    const object =
      collection === "subscriptions" || collection === "invoices" ? stripeObjects.get(id ?? "") : undefined;
    response.setHeader("content-type", "application/json");
    if (object !== undefined) return void response.end(JSON.stringify(object));
    // The workers' hourly events backfill lists events: there are none to find.
    if (path === "/v1/events")
      return void response.end(JSON.stringify({ object: "list", data: [], has_more: false }));
    response.statusCode = 404;
    response.end(JSON.stringify({ error: { type: "invalid_request_error", code: "resource_missing" } }));
  });
  await new Promise<void>((resolve) => stripeStandIn.listen(0, "127.0.0.1", resolve));
  stripeBase = `http://127.0.0.1:${(stripeStandIn.address() as { port: number }).port}`;
});

afterAll(async () => {
  await Promise.all(workers.map(({ child }) => stopWorker(child)));
  await new Promise((resolve) => stripeStandIn.close(resolve));
  await harness.close();
});

function startWorker(): { child: ChildProcess; output: string[] } {
  const { config } = harness.ctx;
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "worker"], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      DATABASE_URL: config.databaseUrl,
      REDIS_URL: config.redisUrl,
      LEAKGUARD_QUEUE_PREFIX: config.queuePrefix,
      LEAKGUARD_CATALOG: config.catalogPath,
      STRIPE_API_BASE: stripeBase,
      LEAKGUARD_WORKER_CONCURRENCY: "4",
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  child.stdout?.on("data", (chunk) => output.push(String(chunk)));
  child.stderr?.on("data", (chunk) => output.push(String(chunk)));
  return { child, output };
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      const logs = workers.map(({ output }) => output.join("").slice(-2000)).join("\n---\n");
      throw new Error(`timed out waiting for ${what}\n${logs}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A deterministic shuffle (mulberry32), so a failure names the seed that reproduces it. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

describe(`one customer's 20 lifecycle events, shuffled, through ${WORKERS} worker processes`, () => {
  it("ends with one row per object, the in-order state, and one access-log row per real change", async () => {
    for (let i = 0; i < WORKERS; i++) workers.push(startWorker());
    const queue = harness.ctx.queues.stripeEvents;
    await waitFor(`${WORKERS} workers`, async () => (await queue.getWorkersCount()) >= WORKERS, 45_000);

    const seed = Date.now() % 100_000;
    const tag = `wp${process.pid}`;
    const lifecycle = buildCustomerLifecycle(tag, { recoveredInSameSecond: true });
    for (const [id, object] of lifecycle.finalObjects) stripeObjects.set(id, object);
    const order = shuffled(lifecycle.events, seed);
    for (const event of order) {
      const body = JSON.stringify(event);
      const response = await harness.app.inject({
        method: "POST",
        url: "/webhooks/stripe",
        headers: {
          "content-type": "application/json",
          "stripe-signature": signWebhookPayload(body, WEBHOOK_SECRET),
        },
        payload: body,
      });
      expect(response.statusCode, `seed ${seed}`).toBe(200);
    }
    const ids = lifecycle.events.map((event) => String(event["id"]));
    await waitFor(
      "all events processed",
      async () =>
        (await harness.db.stripeEvent.count({
          where: { id: { in: ids }, status: { in: ["processed", "ignored"] } },
        })) === ids.length,
      60_000,
    );

    // In-order delivery of an identical copy, in this process, is the reference.
    const referenceTag = `wr${process.pid}`;
    const reference = buildCustomerLifecycle(referenceTag, { recoveredInSameSecond: true });
    for (const [id, object] of reference.finalObjects) stripeObjects.set(id, object);
    for (const event of reference.events) await harness.apply(event);

    const { db } = harness;
    const customerId = lifecycle.customerId;
    expect(await db.customer.count({ where: { id: customerId } })).toBe(1);
    expect(await db.subscription.count({ where: { customerId } })).toBe(1);
    expect(await db.subscriptionItem.count({ where: { subscriptionId: lifecycle.subscriptionId } })).toBe(1);
    expect(await db.invoice.count({ where: { customerId } })).toBe(3);
    expect(await db.invoiceLine.count({ where: { invoice: { customerId } } })).toBe(4);
    expect(await mirroredState(db, tag, customerId), `seed ${seed}`).toEqual(
      await mirroredState(db, referenceTag, reference.customerId),
    );
    expect(await accessState(db, customerId)).toEqual(await accessState(db, reference.customerId));
    expect(await accessLogProblems(db, customerId), `seed ${seed}`).toEqual([]);
    // The events were applied by more than one process at once, each applied once.
    const handled = workers.map(
      ({ output }) =>
        output
          .join("")
          .split("\n")
          .filter((line) => line.includes('"msg":"stripe event handled"') && line.includes(tag)).length,
    );
    expect(
      handled.filter((count) => count > 0).length,
      `events per worker: ${handled}`,
    ).toBeGreaterThanOrEqual(2);
    expect(handled.reduce((sum, count) => sum + count, 0)).toBe(ids.length);
  }, 120_000);
});
