/**
 * Webhook intake throughput: unique signed Stripe events/s at 32 connections against the real app on loopback
 * (verify, durable store, enqueue), beside a raw baseline in the same run (signature verify + one INSERT through
 * pg in a bare Fastify route). Each server runs in a child process so the load generator does not share its
 * event loop; each gets a fresh database and the same warm-up, and every event answered 2xx (warm-up included)
 * must be a stored row afterwards.
 */
import type { ChildProcess } from "node:child_process";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import Fastify from "fastify";
import pg from "pg";
import { createAppContext } from "../src/app-context.js";
import { loadConfig } from "../src/config/config.js";
import { createLogger } from "../src/config/logger.js";
import { buildApp } from "../src/http/app.js";
import { createRedis } from "../src/queue/connection.js";
import { createQueue } from "../src/queue/queues.js";
import { QUEUES } from "../src/queue/registry.js";
import {
  benchDatabaseUrl,
  deleteBenchQueueKeys,
  dropBenchDatabase,
  forkServer,
  prepareBenchDatabase,
  REDIS_URL,
  serveToParent,
  stopChild,
  withClient,
} from "./support.js";

const SECRET = "whsec_bench_intake";
const CONNECTIONS = 32;
const ROUNDS = 3;
const ROUND_S = 4;
const WARMUP_S = 2;
const TARGET_RATIO = 0.8;
const TARGET_P99_MS = 50;

type Role = "app" | "raw";
type Server = { role: Role; child: ChildProcess; port: number };
type Round = {
  /** Every response time of the round, in milliseconds. */
  latencies: number[];
  perSecond: number;
  durationS: number;
  p50: number;
  p99: number;
  ok: number;
  errors: number;
  cpuMicros: number;
};

const LABELS: Record<Role, string> = {
  raw: "raw baseline (verify + pg INSERT)",
  app: "leakguard intake (verify + store + enqueue)",
};

export default async function run(): Promise<void> {
  const suffix = randomBytes(4).toString("hex");
  const queuePrefix = `lgbench_${suffix}`;
  // A database per side, so neither runs against the other's rows, indexes or autovacuum.
  const databases: Record<Role, string> = {
    raw: benchDatabaseUrl(`leakguard_bench_${suffix}_raw`),
    app: benchDatabaseUrl(`leakguard_bench_${suffix}_app`),
  };
  const servers: Server[] = [];
  try {
    for (const databaseUrl of Object.values(databases)) await prepareBenchDatabase(databaseUrl);
    for (const role of ["raw", "app"] as const)
      servers.push(await startServer(role, databases[role], queuePrefix));
    const acknowledged: Record<Role, string[]> = { raw: [], app: [] };
    for (const server of servers) await load(server.port, server.role, WARMUP_S, acknowledged[server.role]);
    // Short rounds, alternating which side goes first: load from other work on the machine falls on both sides.
    const rounds: Record<Role, Round[]> = { raw: [], app: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      for (const server of order)
        rounds[server.role].push(await measureRound(server, acknowledged[server.role]));
    }

    for (const role of ["raw", "app"] as const) {
      const summary = summarize(rounds[role]);
      console.log(
        `${LABELS[role].padEnd(45)} ${summary.perSecond.toFixed(0).padStart(6)} events/s  ` +
          `p50 ${summary.p50.toFixed(1)} ms  p99 ${summary.p99.toFixed(1)} ms  server CPU ${summary.cpuPerEventUs.toFixed(0)} µs/event  ` +
          `(${summary.ok} x 2xx, ${summary.errors} errors)`,
      );
    }
    const raw = summarize(rounds.raw);
    const app = summarize(rounds.app);
    const ratio = app.perSecond / raw.perSecond;
    const perRound = rounds.app.map((round, index) => {
      const base = rounds.raw[index]!;
      return `${(round.perSecond / base.perSecond).toFixed(2)} (p99 ${round.p99} vs ${base.p99} ms)`;
    });
    console.log(`ratio leakguard / raw: ${ratio.toFixed(2)}; rounds: ${perRound.join(", ")}`);
    const met = ratio >= TARGET_RATIO && app.p99 < TARGET_P99_MS;
    console.log(`target (>= ${TARGET_RATIO} of raw, p99 < ${TARGET_P99_MS} ms): ${met ? "met" : "NOT met"}`);

    // Every 2xx must be a stored row: a fast intake that loses events is not a result.
    for (const role of ["raw", "app"] as const) {
      const stored = await countEvents(databases[role], acknowledged[role]);
      if (stored !== acknowledged[role].length) {
        throw new Error(
          `${LABELS[role]}: only ${stored} of ${acknowledged[role].length} events answered 2xx are stored`,
        );
      }
    }
    console.log(`all ${acknowledged.raw.length + acknowledged.app.length} events answered 2xx are stored`);
    // And leakguard's 2xx also means enqueued: each such event is marked queued with its job waiting.
    const queued = await countEvents(databases.app, acknowledged.app, { queued: true });
    const waiting = await countWaitingJobs(queuePrefix);
    if (queued !== acknowledged.app.length || waiting < acknowledged.app.length) {
      throw new Error(
        `leakguard: of ${acknowledged.app.length} events answered 2xx, ${queued} are marked queued and ${waiting} jobs wait`,
      );
    }
    console.log(
      `all ${queued} leakguard events answered 2xx are marked queued; ${waiting} processing jobs wait`,
    );
  } finally {
    await Promise.all(servers.map((server) => stopChild(server.child)));
    for (const databaseUrl of Object.values(databases)) await dropBenchDatabase(databaseUrl);
    await deleteBenchQueueKeys(queuePrefix);
  }
}

/** Throughput and latency percentiles over every response of all rounds. */
function summarize(rounds: Round[]) {
  const ok = rounds.reduce((sum, round) => sum + round.ok, 0);
  const cpuMicros = rounds.reduce((sum, round) => sum + round.cpuMicros, 0);
  const latencies = rounds.flatMap((round) => round.latencies).sort((a, b) => a - b);
  const percentile = (q: number) => latencies[Math.max(0, Math.ceil(q * latencies.length) - 1)] ?? 0;
  return {
    perSecond: ok / rounds.reduce((sum, round) => sum + round.durationS, 0),
    p50: percentile(0.5),
    p99: percentile(0.99),
    ok,
    errors: rounds.reduce((sum, round) => sum + round.errors, 0),
    cpuPerEventUs: ok === 0 ? 0 : cpuMicros / ok,
  };
}

async function startServer(role: Role, databaseUrl: string, queuePrefix: string): Promise<Server> {
  const { child, port } = await forkServer(
    role,
    fileURLToPath(import.meta.url),
    { BENCH_DATABASE: databaseUrl, BENCH_QUEUE_PREFIX: queuePrefix, INTAKE_BENCH_ROLE: role },
    // The app logs at its default level, as `serve` does; its lines are written (the cost is real) and dropped.
    "ignore",
  );
  return { role, child, port };
}

async function measureRound(server: Server, acknowledged: string[]): Promise<Round> {
  const cpuBefore = await childCpu(server.child);
  const latencies: number[] = [];
  const result = await load(server.port, server.role, ROUND_S, acknowledged, latencies);
  const cpuMicros = (await childCpu(server.child)) - cpuBefore;
  return {
    latencies,
    perSecond: result["2xx"] / result.duration,
    durationS: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result["2xx"],
    errors: result.non2xx + result.errors + result.timeouts,
    cpuMicros,
  };
}

let sequence = 0;

/**
 * Unique signed events at CONNECTIONS connections for `durationS`; pushes each id answered 2xx, and every
 * response time (the ones autocannon's own percentiles use) when `latencies` is given.
 */
function load(
  port: number,
  role: Role,
  durationS: number,
  acknowledged: string[],
  latencies?: number[],
): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections: CONNECTIONS,
        duration: durationS,
        requests: [
          {
            method: "POST",
            path: "/webhooks/stripe",
            // One request in flight per connection, so the connection's context names the event being answered.
            setupRequest: (request, context: { eventId?: string }) => {
              context.eventId = `evt_bench${role}${(sequence++).toString(36)}x${randomBytes(3).toString("hex")}`;
              const body = eventBody(context.eventId);
              return {
                ...request,
                body,
                headers: { "content-type": "application/json", "stripe-signature": sign(body) },
              };
            },
            onResponse: (status: number, _body: string, context: { eventId?: string }) => {
              if (status >= 200 && status < 300 && context.eventId) acknowledged.push(context.eventId);
            },
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    if (latencies !== undefined) {
      instance.on("response", (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
    }
  });
}

/** The server's own CPU time so far (user + system, microseconds), asked over IPC. */
function childCpu(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const onMessage = (message: unknown) => {
      const cpu = (message as { cpu?: number }).cpu;
      if (cpu === undefined) return;
      child.off("message", onMessage);
      resolve(cpu);
    };
    child.on("message", onMessage);
    child.send("cpu");
  });
}

function eventBody(id: string): string {
  const created = Math.floor(Date.now() / 1000);
  return JSON.stringify({
    id,
    object: "event",
    api_version: "2026-11-18.endive",
    created,
    data: {
      object: {
        id: `in_${id.slice(4)}`,
        object: "invoice",
        customer: "cus_bench",
        subscription: "sub_bench",
        status: "paid",
        currency: "usd",
        amount_due: 4200,
        amount_paid: 4200,
        period_start: created - 2_592_000,
        period_end: created,
        lines: { object: "list", data: [], has_more: false },
      },
    },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: "invoice.paid",
  });
}

function sign(body: string): string {
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = createHmac("sha256", SECRET).update(`${timestamp}.${body}`).digest("hex");
  return `t=${timestamp},v1=${signature}`;
}

/** The real app, as `serve` builds it, on its own database and queue prefix. */
async function serveApp(): Promise<void> {
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: process.env.BENCH_DATABASE!,
    REDIS_URL,
    LEAKGUARD_QUEUE_PREFIX: process.env.BENCH_QUEUE_PREFIX!,
    STRIPE_WEBHOOK_SECRET: SECRET,
  });
  const ctx = createAppContext(config, createLogger(config.logLevel));
  const app = await buildApp(ctx);
  await app.listen({ port: 0, host: "127.0.0.1" });
  serveToParent(app.server.address(), async () => {
    await app.close();
    await ctx.close();
  });
}

/** The floor: a bare Fastify route that checks the signature by hand and inserts one row through pg. */
async function serveRaw(): Promise<void> {
  const pool = new pg.Pool({ connectionString: process.env.BENCH_DATABASE!, max: 10 });
  const app = Fastify();
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_request, body, done) =>
    done(null, body),
  );
  app.post("/webhooks/stripe", async (request, reply) => {
    const body = request.body as Buffer;
    const header = String(request.headers["stripe-signature"] ?? "");
    const timestamp = /t=(\d+)/.exec(header)?.[1];
    const given = /v1=([0-9a-f]{64})/.exec(header)?.[1];
    if (timestamp === undefined || given === undefined) return reply.code(400).send();
    const expected = createHmac("sha256", SECRET).update(`${timestamp}.`).update(body).digest();
    if (!timingSafeEqual(expected, Buffer.from(given, "hex"))) return reply.code(400).send();
    const event = JSON.parse(body.toString("utf8")) as { id: string; type: string; created: number };
    await pool.query(
      `INSERT INTO stripe_events (id, type, "stripeCreated", payload) VALUES ($1, $2, to_timestamp($3), $4::jsonb)
       ON CONFLICT (id) DO NOTHING`,
      [event.id, event.type, event.created, body.toString("utf8")],
    );
    return reply.send({ received: true });
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  serveToParent(app.server.address(), async () => {
    await app.close();
    await pool.end();
  });
}

/** How many of these events are stored (or, with `queued`, stored and marked queued). */
function countEvents(
  databaseUrl: string,
  ids: string[],
  options: { queued?: boolean } = {},
): Promise<number> {
  return withClient(databaseUrl, async (client) => {
    const result = await client.query<{ count: string }>(
      `SELECT count(*) FROM stripe_events WHERE id = ANY($1::text[])${options.queued ? " AND status = 'queued'" : ""}`,
      [ids],
    );
    return Number(result.rows[0]!.count);
  });
}

async function countWaitingJobs(prefix: string): Promise<number> {
  const connection = createRedis(REDIS_URL);
  const queue = createQueue({ connection, prefix }, QUEUES.stripeEvents);
  try {
    return await queue.getWaitingCount();
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

const role = process.env.INTAKE_BENCH_ROLE as Role | undefined;
if (role === "app") await serveApp();
if (role === "raw") await serveRaw();
