import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { promisify } from "node:util";
import nock from "nock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backfillSubscriptionObjects, OBJECT_BACKFILL_CAUSE } from "../../../src/ingest/backfill-objects.js";
import { anEvent, aSubscription, type Json, stripeId } from "../../support/builders.js";
import {
  createSyncHarness,
  loadAccessLog,
  loadSubscription,
  PRO_PRICE,
  STRIPE_API_BASE,
  type SyncHarness,
} from "../sync/sync-harness.js";

const run = promisify(execFile);

let harness: SyncHarness;
beforeAll(async () => {
  harness = await createSyncHarness();
});
afterAll(async () => {
  await harness.close();
});

const pro = [{ price: { id: PRO_PRICE } }];
const page = (data: Json[], hasMore: boolean) => ({
  object: "list",
  url: "/v1/subscriptions",
  has_more: hasMore,
  data,
});
const sso = (customerId: string) =>
  harness.db.entitlement.findUnique({ where: { customerId_feature: { customerId, feature: "sso" } } });

describe("backfillSubscriptionObjects", () => {
  it("repairs missed cancellations and creations across pages, and recomputes access only where it changed", async () => {
    const sub = (customer: string, status: "active" | "canceled", id = stripeId("sub")): Json =>
      aSubscription({ id, customer, status, items: [{ id: `si_${id}`, price: { id: PRO_PRICE } }] });
    // Mirrored active; canceled in Stripe, the deletion webhook lost.
    const missedCancel = sub(stripeId("cus"), "canceled");
    await harness.apply(
      anEvent(
        "customer.subscription.updated",
        sub(String(missedCancel["customer"]), "active", String(missedCancel["id"])),
      ),
    );
    // Canceled before any of its webhooks arrived: not mirrored at all.
    const neverSeenCanceled = sub(stripeId("cus"), "canceled");
    // Active, its created webhook lost; more items than Stripe embeds.
    const neverSeenActive = sub(stripeId("cus"), "active");
    const truncated: Json = {
      ...neverSeenActive,
      items: { ...(neverSeenActive["items"] as Json), has_more: true },
    };
    // Mirrored and current.
    const current = sub(stripeId("cus"), "active");
    await harness.apply(anEvent("customer.subscription.created", current));
    // The mirror holds an event stamped after the listing started.
    const newer = sub(stripeId("cus"), "active");
    await harness.apply(
      anEvent(
        "customer.subscription.deleted",
        { ...newer, status: "canceled" },
        { created: Date.now() / 1000 + 60 },
      ),
    );
    const currentLogBefore = await loadAccessLog(harness.db, String(current["customer"]));

    const item = ((neverSeenActive["items"] as Json)["data"] as Json[])[0]!;
    nock(STRIPE_API_BASE)
      .get("/v1/subscriptions")
      .query((query) => query["status"] === "all" && query["starting_after"] === undefined)
      .reply(200, page([missedCancel, neverSeenCanceled, truncated], true))
      .get("/v1/subscriptions")
      .query((query) => query["status"] === "all" && query["starting_after"] === truncated["id"])
      .reply(200, page([current, newer], false))
      .get("/v1/subscription_items")
      .query((query) => query["subscription"] === neverSeenActive["id"])
      .reply(200, { object: "list", url: "/v1/subscription_items", has_more: false, data: [item] });

    const result = await backfillSubscriptionObjects(harness.ctx, harness.ctx.logger);
    expect(nock.isDone()).toBe(true);
    expect(result).toMatchObject({
      listed: 5,
      created: 2,
      updated: 1,
      unchanged: 1,
      newerHeld: 1,
      unreadable: 0,
      customers: 3,
    });

    const cancelCustomer = String(missedCancel["customer"]);
    expect(await loadSubscription(harness.db, String(missedCancel["id"]))).toMatchObject({
      status: "canceled",
      eventId: null,
    });
    expect(await sso(cancelCustomer)).toMatchObject({ status: "revoked", reason: "subscription_canceled" });
    const revokes = (await loadAccessLog(harness.db, cancelCustomer)).filter(
      (row) => row.action === "revoke",
    );
    expect(revokes.map((row) => row.cause)).toEqual([OBJECT_BACKFILL_CAUSE, OBJECT_BACKFILL_CAUSE]);

    // The canceled one that never arrived is mirrored as canceled; its customer never gets access.
    const canceledCustomer = String(neverSeenCanceled["customer"]);
    expect(await loadSubscription(harness.db, String(neverSeenCanceled["id"]))).toMatchObject({
      status: "canceled",
      customerId: canceledCustomer,
    });
    expect(await harness.db.customer.count({ where: { id: canceledCustomer } })).toBe(1);
    expect(await sso(canceledCustomer)).toBeNull();
    expect(await loadAccessLog(harness.db, canceledCustomer)).toEqual([]);

    const activeCustomer = String(neverSeenActive["customer"]);
    const backfilled = await loadSubscription(harness.db, String(neverSeenActive["id"]));
    expect(backfilled!.items.map((row) => row.id)).toEqual([item["id"]]);
    expect(await sso(activeCustomer)).toMatchObject({ status: "active" });

    expect(await loadAccessLog(harness.db, String(current["customer"]))).toEqual(currentLogBefore);
    expect(await loadSubscription(harness.db, String(newer["id"]))).toMatchObject({ status: "canceled" });

    // Run again: nothing is out of date any more, nothing is recomputed.
    nock(STRIPE_API_BASE)
      .get("/v1/subscriptions")
      .query(true)
      .reply(200, page([missedCancel, neverSeenCanceled, { ...neverSeenActive }], false));
    expect(await backfillSubscriptionObjects(harness.ctx, harness.ctx.logger)).toMatchObject({
      listed: 3,
      created: 0,
      updated: 0,
      unchanged: 3,
      customers: 0,
      accessChanges: 0,
    });
  });

  it("reads the rest of a truncated items list like embedded items: a value Stripe never sends refuses the subscription", async () => {
    const truncated = aSubscription({ id: stripeId("sub"), customer: stripeId("cus"), items: pro });
    const item = ((truncated["items"] as Json)["data"] as Json[])[0]!;
    nock(STRIPE_API_BASE)
      .get("/v1/subscriptions")
      .query(true)
      .reply(200, page([{ ...truncated, items: { ...(truncated["items"] as Json), has_more: true } }], false))
      .get("/v1/subscription_items")
      .query((query) => query["subscription"] === truncated["id"])
      .reply(200, {
        object: "list",
        url: "/v1/subscription_items",
        has_more: false,
        data: [{ ...item, quantity: -3 }],
      });

    const result = await backfillSubscriptionObjects(harness.ctx, harness.ctx.logger);
    expect(nock.isDone()).toBe(true);
    expect(result).toMatchObject({ listed: 1, created: 0, unreadable: 1, customers: 0 });
    expect(await loadSubscription(harness.db, String(truncated["id"]))).toBeNull();
  });
});

describe("leakguard events backfill --objects", () => {
  let stripeStandIn: Server;
  let port = 0;
  const canceled = aSubscription({
    id: stripeId("sub"),
    customer: stripeId("cus"),
    status: "canceled",
    items: pro,
  });
  beforeAll(async () => {
    stripeStandIn = createServer((request, response) => {
      response.setHeader("content-type", "application/json");
      response.end(
        JSON.stringify(request.url?.startsWith("/v1/subscriptions") ? page([canceled], false) : {}),
      );
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
        DATABASE_URL: harness.ctx.config.databaseUrl,
        REDIS_URL: harness.ctx.config.redisUrl,
        LEAKGUARD_QUEUE_PREFIX: harness.ctx.config.queuePrefix,
        LEAKGUARD_CATALOG: harness.ctx.config.catalogPath,
        STRIPE_API_BASE: `http://127.0.0.1:${port}`,
        LOG_LEVEL: "silent",
      },
    });

  it("saves the listed subscriptions and prints what it did", async () => {
    const { stdout } = await cli(["--objects"]);
    expect(stdout.trim()).toMatch(
      /^listed 1 subscriptions as of \S+: 1 never mirrored, 0 out of date, 0 unchanged, 0 newer in the mirror; access recomputed for 1 customer\(s\), 0 change\(s\)$/,
    );
    expect(await loadSubscription(harness.db, String(canceled["id"]))).toMatchObject({ status: "canceled" });
  });

  it("documents --objects and exits 1 when given nothing to backfill", async () => {
    const { stdout } = await cli(["--help"]);
    expect(stdout).toMatch(/--objects/);
    const failure = await cli([]).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({
      code: 1,
      stderr: "leakguard: give --since <when>, --objects, or both\n",
    });
  });
});
