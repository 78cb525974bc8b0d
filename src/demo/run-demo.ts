import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AppContext, createAppContext } from "../app-context.js";
import { loadConfig } from "../config/config.js";
import { createLogger } from "../config/logger.js";
import { dropDatabase } from "../db/databases.js";
import { mapConcurrently } from "../map-concurrently.js";
import { deleteQueueKeys } from "../queue/keys.js";
import { assertNoEviction } from "../queue/queues.js";
import { enqueueReconciliation, waitForReconciliation } from "../reconcile/reconcile-job.js";
import { renderReport } from "../report/render-report.js";
import type { Report } from "../report/report.js";
import { signWebhookPayload } from "../stripe/webhook-signature.js";
import { findUnreachableService, resetDemoDatabase } from "./demo-infra.js";
import {
  type DemoChild,
  findFreePort,
  REPO_ROOT,
  startLeakguardProcess,
  tailOf,
  waitForHealth,
} from "./demo-processes.js";
import { loadFixtureEvents, objectsOfEvents } from "./fixture-events.js";
import { createProgress, type Progress } from "./progress.js";
import { type DemoScenario, generateScenario } from "./scenario.js";
import type { StripeObject } from "./stripe-params.js";
import { type StripeStandIn, startStripeStandIn } from "./stripe-stand-in.js";
import { decideVerdict, type Verdict } from "./verdict.js";

export type DemoOptions = {
  /** Any database URL on the server to use; the demo works in its own database there. */
  databaseUrl: string;
  redisUrl: string;
  databaseName?: string;
  seed?: number;
  customers?: number;
  /** The demo's clock: the billing period ends on the hour, six hours before `now`. */
  now?: Date;
  write?: (text: string) => void;
  interactive?: boolean;
  /** Drop the demo database at the end (tests); by default it is kept for `leakguard report` and friends. */
  dropDatabase?: boolean;
};

export type DemoOutcome = {
  ok: boolean;
  verdict: Verdict;
  report: Report;
  scenario: DemoScenario;
  elapsedMs: number;
};

export class DemoError extends Error {
  override name = "DemoError";
}

export const DEMO_DATABASE = "leakguard_demo";
const DEMO_CATALOG = join(REPO_ROOT, "src/demo/demo-catalog.json");
const FIXTURE_EVENTS = join(REPO_ROOT, "test/fixtures/stripe/events");
const STEPS = 8;
const HOUR_MS = 3_600_000;
const PERIOD_END_HOURS_AGO = 6;
const SEND_CONCURRENCY = 8;
const USAGE_BATCH = 100;
const PROCESS_TIMEOUT_MS = 45_000;
const HEALTH_TIMEOUT_MS = 30_000;
const RECONCILE_TIMEOUT_MS = 40_000;
const SETTLED = new Set(["processed", "ignored", "unsupported"]);

/**
 * `leakguard demo`: the whole job end to end against a local Stripe stand-in. Generates a scenario with known
 * leakage, runs the real serve and worker processes, feeds them signed webhooks and usage over HTTP, reconciles
 * through the queue and compares the report with the answer the scenario worked out.
 */
export async function runDemo(options: DemoOptions): Promise<DemoOutcome> {
  const started = Date.now();
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const progress = createProgress(STEPS, write, options.interactive ?? false);
  const down = await findUnreachableService(options.databaseUrl, options.redisUrl);
  if (down !== null) throw new DemoError(down);

  const seed = options.seed ?? 42;
  const now = options.now ?? new Date();
  // Hours in the past, so the worker's start-up backfill of recent events does not race the webhooks sent here.
  const periodEnd = new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - PERIOD_END_HOURS_AGO * HOUR_MS);
  const scenario = generateScenario({
    seed,
    periodEnd,
    ...(options.customers ? { customers: options.customers } : {}),
  });
  const fixtures = loadFixtureEvents(FIXTURE_EVENTS);
  const databaseName = options.databaseName ?? DEMO_DATABASE;
  const runTag = randomBytes(4).toString("hex");
  const cleanup = new Cleanup();
  let succeeded = false;
  const onSignal = () => {
    write("\ninterrupted: stopping serve, worker and the Stripe stand-in\n");
    void cleanup.run().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    progress.step(
      `starting the Stripe stand-in: ${scenario.customers.length} customers, ${scenario.stripe.invoices!.length} invoices, ${scenario.stripe.events!.length} events (seed ${seed})`,
    );
    const standIn = await startStripeStandIn(objectsOfEvents(fixtures.map(({ event }) => event)));
    for (const [collection, objects] of Object.entries(scenario.stripe)) {
      standIn.put(collection as Parameters<StripeStandIn["put"]>[0], objects);
    }
    cleanup.add(() => standIn.close());
    progress.note(`Stripe API at ${standIn.url} (STRIPE_API_BASE): no Stripe account or key is used`);

    progress.step(`preparing database ${databaseName} (drop, create, migrate)`);
    const databaseUrl = await resetDemoDatabase(options.databaseUrl, databaseName);
    if (options.dropDatabase) cleanup.add(() => dropDatabase(options.databaseUrl, databaseName));

    const port = await findFreePort();
    const env: Record<string, string> = {
      DATABASE_URL: databaseUrl,
      REDIS_URL: options.redisUrl,
      STRIPE_SECRET_KEY: `sk_test_demo_${runTag}`,
      STRIPE_WEBHOOK_SECRET: `whsec_demo_${randomBytes(12).toString("hex")}`,
      STRIPE_API_BASE: standIn.url,
      LEAKGUARD_CATALOG: DEMO_CATALOG,
      LEAKGUARD_API_KEYS: `lg_demo_${randomBytes(12).toString("hex")}`,
      LEAKGUARD_QUEUE_PREFIX: `lgdemo_${runTag}`,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
    };
    const ctx = createAppContext(loadConfig(env), createLogger("silent"));
    cleanup.add(async () => {
      await deleteQueueKeys(ctx.redis, env.LEAKGUARD_QUEUE_PREFIX!).catch(() => {});
      await ctx.close();
    });
    await assertNoEviction(ctx.redis).catch((error: Error) => {
      throw new DemoError(error.message);
    });
    const serveUrl = `http://127.0.0.1:${port}`;
    const logDir = mkdtempSync(join(tmpdir(), "leakguard-demo-"));

    progress.step(`starting serve (${serveUrl}) and worker`);
    const serve = startLeakguardProcess("serve", env, logDir);
    const worker = startLeakguardProcess("worker", env, logDir);
    cleanup.add(() => Promise.all([serve.stop(), worker.stop()]).then(() => {}));
    const children = [serve, worker];
    await waitForHealth(`${serveUrl}/health`, serve, HEALTH_TIMEOUT_MS).catch((error: Error) => {
      throw new DemoError(`${error.message}; last lines of ${serve.logPath}:\n${tailOf(serve.logPath)}`);
    });
    progress.note(`logs in ${logDir}`);
    // Logs explain a failure; a run that agreed with its scenario leaves nothing behind.
    cleanup.add(async () => {
      if (succeeded) await rm(logDir, { recursive: true, force: true });
    });

    const webhooks = [...fixtures.map(({ event }) => event), ...scenario.webhooks];
    progress.step(`sending ${webhooks.length} webhooks (${fixtures.length} real Stripe payloads first)...`);
    await sendWebhooks(
      `${serveUrl}/webhooks/stripe`,
      env.STRIPE_WEBHOOK_SECRET!,
      fixtures,
      scenario.webhooks,
      progress,
    );

    progress.step("waiting for the worker to apply them...");
    await waitForEvents(ctx, webhooks, new Set(fixtures.map(({ event }) => event.id)), children, progress);

    const apiKey = env.LEAKGUARD_API_KEYS!;
    progress.step(
      `recording ${scenario.usage.length} usage events through POST /v1/usage (and ${scenario.retriedUsageIds.length} retries)...`,
    );
    await recordUsage(serveUrl, apiKey, scenario, ctx, progress);

    progress.step("asking for access through GET /v1/customers/:customer/entitlements/:feature");
    await checkEntitlements(serveUrl, apiKey, scenario, progress);

    progress.step(
      `reconciling ${scenario.reconcile.from.toISOString()} to ${scenario.reconcile.to.toISOString()} through the queue...`,
    );
    const jobId = await enqueueReconciliation(ctx, {
      from: scenario.reconcile.from,
      to: scenario.reconcile.to,
      trigger: "demo",
    });
    const { runId } = await waitForReconciliation(ctx, jobId, { timeoutMs: RECONCILE_TIMEOUT_MS }).catch(
      (error: Error) => {
        throw new DemoError(`${error.message}; last lines of ${worker.logPath}:\n${tailOf(worker.logPath)}`);
      },
    );
    progress.note(`run ${runId} (job ${jobId} on the worker)`);
    progress.note(
      `Stripe API calls leakguard made to the stand-in: ${summarizeRequests(standIn.requests())}`,
    );
    const report = await fetchJson<Report>(`${serveUrl}/v1/reports/${runId}`, apiKey);
    progress.line("");
    progress.line(renderReport(report, "md").trimEnd());
    progress.line("");

    const verdict = decideVerdict(scenario.expected.findings, report.findings);
    for (const difference of verdict.differences) progress.line(`  ${difference}`);
    const elapsedMs = Date.now() - started;
    if (!options.dropDatabase)
      progress.line(`the demo database is kept: DATABASE_URL=${databaseUrl} npx leakguard report latest`);
    progress.line(`${verdict.ok ? "ok" : "MISMATCH"} in ${(elapsedMs / 1000).toFixed(1)} s`);
    // The last line, the one to read: the scenario's answer against the report's.
    progress.line(verdict.line);
    succeeded = verdict.ok;
    return { ok: verdict.ok, verdict, report, scenario, elapsedMs };
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await cleanup.run();
  }
}

/** Signed over real HTTP as Stripe sends them: the real payloads first, then the scenario in creation order. */
async function sendWebhooks(
  url: string,
  secret: string,
  fixtures: readonly { name: string; event: StripeObject }[],
  events: readonly StripeObject[],
  progress: Progress,
): Promise<void> {
  const total = fixtures.length + events.length;
  let sent = 0;
  const send = async (event: StripeObject, label: string) => {
    const body = JSON.stringify(event);
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signWebhookPayload(body, secret) },
      body,
    });
    if (!response.ok)
      throw new DemoError(
        `${label} ${event.id} (${String(event["type"])}) answered ${response.status}: ${await response.text()}`,
      );
    progress.count(++sent, total);
  };
  await mapConcurrently(fixtures, SEND_CONCURRENCY, ({ name, event }) =>
    send(event, `real Stripe payload ${name}:`),
  );
  await mapConcurrently(events, SEND_CONCURRENCY, (event) => send(event, "scenario event"));
}

/** Things to undo, newest first, each at most once, also when an earlier one fails. */
class Cleanup {
  private readonly steps: (() => Promise<void>)[] = [];
  private running: Promise<void> | null = null;

  add(step: () => Promise<void>): void {
    this.steps.push(step);
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      while (this.steps.length > 0) await this.steps.pop()!().catch(() => {});
    })();
    return this.running;
  }
}

/**
 * Until every delivered event is processed, ignored or unsupported and no job waits or runs. A real-world payload
 * that failed is reported and the demo goes on; a failed scenario event gets until the deadline for its retries.
 */
async function waitForEvents(
  ctx: AppContext,
  events: readonly StripeObject[],
  fixtureIds: ReadonlySet<string>,
  children: readonly DemoChild[],
  progress: Progress,
): Promise<void> {
  // Real payloads reuse event ids across files; Stripe's id is what leakguard stores once.
  const ids = [...new Set(events.map((event) => event.id))];
  const deadline = Date.now() + PROCESS_TIMEOUT_MS;
  for (;;) {
    for (const child of children) {
      if (child.process.exitCode !== null)
        throw new DemoError(
          `${child.name} exited (code ${child.process.exitCode}); last lines of ${child.logPath}:\n${tailOf(child.logPath)}`,
        );
    }
    const rows = await ctx.db.stripeEvent.findMany({
      where: { id: { in: ids } },
      select: { id: true, type: true, status: true, lastError: true },
    });
    progress.count(rows.filter((row) => SETTLED.has(row.status)).length, ids.length);
    const counts = await ctx.queues.stripeEvents.getJobCounts("waiting", "active", "prioritized");
    const idle =
      rows.length === ids.length &&
      rows.every((row) => row.status !== "received" && row.status !== "queued") &&
      Object.values(counts).every((count) => count === 0);
    const failed = rows.filter((row) => row.status === "failed");
    const failedScenario = failed.filter((row) => !fixtureIds.has(row.id));
    const timedOut = Date.now() > deadline;
    if ((idle && failedScenario.length === 0) || timedOut) {
      for (const row of failed.filter((candidate) => fixtureIds.has(candidate.id)))
        progress.note(
          `real Stripe payload ${row.id} (${row.type}) failed: ${row.lastError ?? "no reason recorded"}`,
        );
      if (failedScenario.length > 0)
        throw new DemoError(
          `${failedScenario.length} scenario event(s) failed, e.g. ${failedScenario
            .slice(0, 3)
            .map((row) => `${row.id} (${row.type}): ${row.lastError ?? "no reason recorded"}`)
            .join("; ")}`,
        );
      if (!idle)
        throw new DemoError(
          `the worker did not apply the events within ${PROCESS_TIMEOUT_MS / 1000} s (${rows.length}/${ids.length} stored)`,
        );
      const byStatus = new Map<string, number>();
      for (const row of rows) byStatus.set(row.status, (byStatus.get(row.status) ?? 0) + 1);
      progress.note([...byStatus.entries()].map(([status, count]) => `${count} ${status}`).join(", "));
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function recordUsage(
  serveUrl: string,
  apiKey: string,
  scenario: DemoScenario,
  ctx: AppContext,
  progress: Progress,
): Promise<void> {
  let recorded = 0;
  for (let start = 0; start < scenario.usage.length; start += USAGE_BATCH) {
    const events = scenario.usage.slice(start, start + USAGE_BATCH);
    const reply = await postJson<{ results: { status: string; usage_id?: string; message?: string }[] }>(
      `${serveUrl}/v1/usage`,
      apiKey,
      { events },
    );
    const refused = reply.results.filter((result) => result.status !== "recorded");
    if (refused.length > 0)
      throw new DemoError(
        `usage ${refused[0]!.usage_id ?? "?"} was ${refused[0]!.status}: ${refused[0]!.message ?? ""} (${refused.length} in the batch)`,
      );
    recorded += events.length;
    progress.count(recorded, scenario.usage.length);
  }
  // A client retrying after a timeout: same usage_id, same payload, answered with the original row.
  let duplicates = 0;
  for (const usageId of scenario.retriedUsageIds) {
    const event = scenario.usage.find((candidate) => candidate.usage_id === usageId)!;
    const reply = await postJson<{ duplicate?: boolean; usage_id?: string }>(
      `${serveUrl}/v1/usage`,
      apiKey,
      event,
    );
    if (reply.duplicate !== true)
      throw new DemoError(`retrying usage ${usageId} was not answered as a duplicate`);
    duplicates++;
  }
  const rows = await ctx.db.ledgerEntry.count({ where: { kind: "usage" } });
  if (rows !== scenario.usage.length)
    throw new DemoError(`the ledger holds ${rows} usage rows, ${scenario.usage.length} expected`);
  progress.note(
    `${recorded} recorded; ${duplicates} retries answered as duplicates; the ledger holds ${rows} rows`,
  );
}

async function checkEntitlements(
  serveUrl: string,
  apiKey: string,
  scenario: DemoScenario,
  progress: Progress,
): Promise<void> {
  const wrong: string[] = [];
  for (const check of scenario.entitlementChecks) {
    const path = `/v1/customers/${encodeURIComponent(check.customer)}/entitlements/${check.feature}`;
    const answer = await fetchJson<{ has_access: boolean; reason?: string | null }>(
      `${serveUrl}${path}`,
      apiKey,
    );
    const mark = answer.has_access === check.hasAccess ? "as expected" : `EXPECTED ${check.hasAccess}`;
    progress.note(
      `${check.customer} ${check.feature}: has_access ${answer.has_access} (${check.why}) ${mark}`,
    );
    if (answer.has_access !== check.hasAccess) wrong.push(`${check.customer} ${check.feature}`);
  }
  if (wrong.length > 0) throw new DemoError(`access answered wrongly for ${wrong.join(", ")}`);
}

const OBJECT_PATH =
  /^(\/v1\/(?:customers|products|prices|subscriptions|invoices|events|billing\/meters))\/[^/]+/;

/** "GET /v1/invoices ×2, POST /v1/billing/meter_events ×309": ids folded so routes group. */
function summarizeRequests(requests: readonly { method: string; path: string; status: number }[]): string {
  const counts = new Map<string, number>();
  for (const request of requests) {
    const route = `${request.method} ${request.path.replace(OBJECT_PATH, "$1/:id")}`;
    counts.set(route, (counts.get(route) ?? 0) + 1);
  }
  if (counts.size === 0) return "none";
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([route, count]) => `${route} ×${count}`)
    .join(", ");
}

async function fetchJson<T>(url: string, apiKey: string): Promise<T> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${apiKey}` } });
  if (!response.ok)
    throw new DemoError(`GET ${new URL(url).pathname} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

async function postJson<T>(url: string, apiKey: string, body: unknown): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok)
    throw new DemoError(
      `POST ${new URL(url).pathname} answered ${response.status}: ${await response.text()}`,
    );
  return (await response.json()) as T;
}
