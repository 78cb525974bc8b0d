import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { promisify } from "node:util";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { backfillStripeEvents } from "../../../src/ingest/backfill-events.js";
import { processJobId } from "../../../src/ingest/event-queue.js";
import { anEvent, createIngestHarness, type IngestHarness, STRIPE_API_BASE } from "./ingest-harness.js";

const run = promisify(execFile);
const DAY_MS = 86_400_000;

let h: IngestHarness;
beforeAll(async () => {
  h = await createIngestHarness();
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
});
afterEach(() => {
  nock.cleanAll();
});
afterAll(async () => {
  nock.enableNetConnect();
  await h.close();
});

const target = () => ({ queue: h.ctx.queues.stripeEvents });
const listed = (event: { body: string }) => JSON.parse(event.body) as Record<string, unknown>;
const page = (data: unknown[], hasMore: boolean) => ({
  object: "list",
  url: "/v1/events",
  has_more: hasMore,
  data,
});

describe("backfillStripeEvents", () => {
  it("stores a missed event whose strings jsonb cannot hold, with U+FFFD in their place", async () => {
    const now = new Date();
    const missed = anEvent({
      created: Math.floor(now.getTime() / 1000) - 3600,
      object: { id: "cus_backfill_nul", object: "customer", name: "nul\u0000 and \ud800" },
    });
    nock(STRIPE_API_BASE)
      .get("/v1/events")
      .query(true)
      .reply(200, page([listed(missed)], false));

    const result = await backfillStripeEvents(
      h.ctx,
      { since: new Date(now.getTime() - 2 * 3600_000), target: target(), now },
      h.log,
    );

    expect(result).toMatchObject({ listed: 1, stored: 1 });
    const rows = await h.ctx.db.$queryRaw<{ name: string }[]>`
      SELECT payload->'data'->'object'->>'name' AS name FROM stripe_events WHERE id = ${missed.id}`;
    expect(rows).toEqual([{ name: "nul\uFFFD and \uFFFD" }]);
  });

  it("stores and enqueues an event that never arrived, across pages, and skips ones already stored", async () => {
    const now = new Date();
    const created = Math.floor(now.getTime() / 1000) - 3600;
    const delivered = anEvent({ created });
    const missedOnFirstPage = anEvent({
      created: created - 10,
      type: "invoice.paid",
      object: { id: "in_missed" },
    });
    const missedOnSecondPage = anEvent({ created: created - 20, type: "customer.subscription.deleted" });
    expect((await h.postEvent(delivered.body)).statusCode).toBe(200);
    const queries: Record<string, string>[] = [];
    nock(STRIPE_API_BASE)
      .get("/v1/events")
      .query((query) => {
        queries.push(query as Record<string, string>);
        return query["starting_after"] === undefined;
      })
      .reply(200, page([listed(delivered), listed(missedOnFirstPage)], true))
      .get("/v1/events")
      .query((query) => {
        queries.push(query as Record<string, string>);
        return query["starting_after"] === missedOnFirstPage.id;
      })
      .reply(200, page([listed(missedOnSecondPage)], false));

    const since = new Date(now.getTime() - 2 * 3600_000);
    const result = await backfillStripeEvents(h.ctx, { since, target: target(), now }, h.log);

    expect(result).toMatchObject({
      beyondRetention: false,
      listed: 3,
      stored: 2,
      alreadyStored: 1,
      enqueued: 2,
    });
    expect(result.from).toEqual(since);
    expect(queries[0]).toMatchObject({
      "created[gte]": String(Math.floor(since.getTime() / 1000)),
      "created[lte]": String(Math.floor((now.getTime() - 5 * 60_000) / 1000)),
    });
    const missed = await h.ctx.db.stripeEvent.findUniqueOrThrow({ where: { id: missedOnFirstPage.id } });
    expect(missed).toMatchObject({
      type: "invoice.paid",
      source: "backfill",
      deliveryCount: 0,
      status: "queued",
      objectId: "in_missed",
      stripeCreated: new Date((created - 10) * 1000),
    });
    expect(await h.ctx.queues.stripeEvents.getJob(processJobId(missedOnSecondPage.id, 0))).toBeDefined();
    const untouched = await h.ctx.db.stripeEvent.findUniqueOrThrow({ where: { id: delivered.id } });
    expect(untouched).toMatchObject({ source: "webhook", deliveryCount: 1 });
  });

  it("counts a webhook that arrives after the backfill as its first delivery", async () => {
    const late = anEvent({ created: Math.floor(Date.now() / 1000) - 3600 });
    nock(STRIPE_API_BASE)
      .get("/v1/events")
      .query(true)
      .reply(200, page([listed(late)], false));
    await backfillStripeEvents(
      h.ctx,
      { since: new Date(Date.now() - 2 * 3600_000), target: target() },
      h.log,
    );

    expect((await h.postEvent(late.body)).statusCode).toBe(200);

    expect(await h.ctx.db.stripeEvent.findUniqueOrThrow({ where: { id: late.id } })).toMatchObject({
      source: "backfill",
      deliveryCount: 1,
    });
  });

  it("starts at Stripe's 30-day horizon when asked for more, and says so", async () => {
    const now = new Date("2026-12-03T12:00:00Z");
    let gte: string | undefined;
    nock(STRIPE_API_BASE)
      .get("/v1/events")
      .query((query) => {
        gte = query["created[gte]"] as string;
        return true;
      })
      .reply(200, page([], false));

    const result = await backfillStripeEvents(
      h.ctx,
      { since: new Date(now.getTime() - 45 * DAY_MS), target: target(), now },
      h.log,
    );

    expect(result.beyondRetention).toBe(true);
    expect(result.from).toEqual(new Date(now.getTime() - 30 * DAY_MS));
    expect(gte).toBe(String((now.getTime() - 30 * DAY_MS) / 1000));
  });
});

describe("leakguard events backfill", () => {
  let stripeStandIn: Server;
  let port: number;
  beforeAll(async () => {
    // The CLI runs in its own process, out of nock's reach: a loopback server answers its events list.
    stripeStandIn = createServer((_request, response) => {
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify(page([], false)));
    });
    await new Promise<void>((resolve) => stripeStandIn.listen(0, "127.0.0.1", resolve));
    port = (stripeStandIn.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => stripeStandIn.close(resolve));
  });

  const cli = (args: string[]) =>
    run(process.execPath, ["--import", "tsx", "src/cli/main.ts", "events", "backfill", ...args], {
      env: {
        ...process.env,
        DATABASE_URL: h.ctx.config.databaseUrl,
        REDIS_URL: h.ctx.config.redisUrl,
        LEAKGUARD_QUEUE_PREFIX: h.ctx.config.queuePrefix,
        STRIPE_API_BASE: `http://127.0.0.1:${port}`,
        LOG_LEVEL: "silent",
      },
    });

  it("notes that --since 31d reaches past Stripe's 30-day history and lists from 30 days back", async () => {
    const before = Date.now();
    const { stdout } = await cli(["--since", "31d"]);
    const [note, summary] = stdout.trim().split("\n");
    const [, since, horizon] =
      /^note: --since (\S+) is beyond Stripe's 30-day event history; events before (\S+) cannot be listed$/.exec(
        note!,
      ) ?? [];
    expect(Date.parse(horizon!) - Date.parse(since!)).toBe(DAY_MS);
    expect(Date.parse(horizon!)).toBeGreaterThanOrEqual(before - 30 * DAY_MS);
    expect(summary).toMatch(
      /^listed 0 events created \S+ to \S+: 0 never received \(stored as backfill, 0 enqueued\), 0 already stored$/,
    );
    expect(summary!.startsWith(`listed 0 events created ${horizon} to `)).toBe(true);
  });

  it("exits 1 with one line when --since leaves nothing to list: a future date, or now (0h)", async () => {
    const future = new Date(Date.now() + 30 * DAY_MS).toISOString().slice(0, 10);
    const failures = await Promise.all(
      [future, "0h"].map((since) =>
        cli(["--since", since]).catch((error: { code: number; stderr: string }) => error),
      ),
    );
    expect(failures).toMatchObject([{ code: 1 }, { code: 1 }]);
    const [futureLines, nowLines] = failures.map((failure) =>
      (failure as { stderr: string }).stderr.trim().split("\n"),
    );
    expect(futureLines).toEqual([
      expect.stringMatching(new RegExp(`^leakguard: --since ${future}: \\S+ is in the future$`)),
    ]);
    expect(nowLines).toEqual([
      expect.stringMatching(
        /^leakguard: --since 0h: \S+ is less than 5 minutes ago; events that recent may still arrive as webhooks, so none are listed$/,
      ),
    ]);
  });

  it("exits 1 naming a --since it cannot read", async () => {
    const failure = await cli(["--since", "last tuesday"]).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toMatch(/^leakguard: --since: "last tuesday" is neither/);
  });
});
