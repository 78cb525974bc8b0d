import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../../../src/config/config.js";
import { createLogger } from "../../../src/config/logger.js";
import type { Db } from "../../../src/db/client.js";
import { applyEntitlementsForCustomer } from "../../../src/entitlements/apply-entitlements.js";
import { processEntitlementJob } from "../../../src/entitlements/entitlement-jobs.js";
import { ENTITLEMENT_JOBS, entitlementQueue } from "../../../src/entitlements/entitlement-queue.js";
import {
  deliverEntitlementWebhook,
  sweepEntitlementWebhooks,
  verifyOutboundSignature,
} from "../../../src/entitlements/outbound-webhooks.js";
import { createRedis } from "../../../src/queue/connection.js";
import { createWorker } from "../../../src/queue/queues.js";
import { QUEUES } from "../../../src/queue/registry.js";
import type { TestApp } from "../../support/app.js";
import { createEntitlementTestApp, fromNow, insertCustomer, insertSubscription } from "./support.js";

const SECRET = "whsec_outbound_test";

type Received = { body: string; signature: string; eventId: string };
const received: Received[] = [];
let failNext = 0;
let server: Server;
let outboundUrl: string;
let testApp: TestApp;
let db: Db;

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      if (failNext > 0) {
        failNext -= 1;
        response.writeHead(503).end();
        return;
      }
      received.push({
        body,
        signature: String(request.headers["leakguard-signature"]),
        eventId: String(request.headers["leakguard-event-id"]),
      });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  outboundUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  testApp = await createEntitlementTestApp({
    extend: (ctx) => ({
      ...ctx,
      config: { ...ctx.config, outboundUrl, outboundSecret: SECRET } as Config,
    }),
  });
  db = testApp.db;
});
afterAll(async () => {
  await testApp?.close();
  await new Promise((resolve) => server.close(resolve));
});

async function waitFor(done: () => boolean | Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

const bodiesFor = (customerId: string) =>
  received.map((r) => JSON.parse(r.body)).filter((body) => body.data.customer === customerId);

describe("outbound entitlement webhooks", () => {
  it("sends a signed entitlement.granted / .revoked for every grant and revoke, once", async () => {
    const connection = createRedis(testApp.ctx.config.redisUrl);
    const worker = createWorker(
      { connection, prefix: testApp.ctx.config.queuePrefix, logger: createLogger("silent"), concurrency: 2 },
      QUEUES.entitlements,
      (job, log) => processEntitlementJob(testApp.ctx, job, log),
    );
    try {
      const customerId = await insertCustomer(db, { externalId: "user_42" });
      const subscriptionId = await insertSubscription(db, customerId);
      await applyEntitlementsForCustomer(testApp.ctx, customerId, {
        cause: "event:evt_created",
        eventId: "evt_created",
      });
      await waitFor(() => bodiesFor(customerId).length === 3);

      await db.subscription.update({
        where: { id: subscriptionId },
        data: { status: "canceled", endedAt: fromNow(-1) },
      });
      await applyEntitlementsForCustomer(testApp.ctx, customerId, {
        cause: "event:evt_deleted",
        eventId: "evt_deleted",
      });
      await applyEntitlementsForCustomer(testApp.ctx, customerId, {
        cause: "event:evt_deleted",
        eventId: "evt_deleted",
      });
      await waitFor(() => bodiesFor(customerId).length === 6);
      await waitFor(
        async () => (await db.accessLog.count({ where: { customerId, notifiedAt: null } })) === 0,
      );

      const bodies = bodiesFor(customerId);
      expect(bodies).toHaveLength(6);
      expect(
        bodies
          .filter((b) => b.type === "entitlement.granted")
          .map((b) => b.data.feature)
          .sort(),
      ).toEqual(["api_calls", "seats", "sso"]);
      const ssoRevoked = bodies.find((b) => b.type === "entitlement.revoked" && b.data.feature === "sso");
      expect(ssoRevoked.data).toMatchObject({
        customer: customerId,
        customer_external_id: "user_42",
        cause: "event:evt_deleted",
        event_id: "evt_deleted",
        before: { status: "active" },
        after: { status: "revoked", reason: "subscription_canceled" },
      });
      const log = await db.accessLog.findFirstOrThrow({
        where: { customerId, feature: "sso", action: "revoke" },
      });
      expect(ssoRevoked.id).toBe(log.id);
      for (const delivery of received.filter((r) => JSON.parse(r.body).data.customer === customerId)) {
        expect(verifyOutboundSignature(delivery.body, delivery.signature, SECRET)).toBe(true);
        expect(delivery.eventId).toBe(JSON.parse(delivery.body).id);
      }
    } finally {
      await worker.close();
      connection.disconnect();
    }
  }, 20_000);

  it("throws on a refusal so the queue retries, and delivers each change only once", async () => {
    const customerId = await insertCustomer(db);
    await insertSubscription(db, customerId);
    const { changes } = await applyEntitlementsForCustomer(testApp.ctx, customerId, {
      cause: "event:evt_retry",
    });
    const accessLogId = changes[0]!.accessLogId;
    const target = { url: outboundUrl, secret: SECRET };

    const job = await entitlementQueue(testApp.ctx).getJob(
      `${ENTITLEMENT_JOBS.deliverWebhook}_${accessLogId}`,
    );
    expect(job?.opts.attempts).toBe(12);
    await job?.remove();

    failNext = 1;
    await expect(deliverEntitlementWebhook(testApp.ctx, accessLogId, target)).rejects.toThrow("HTTP 503");
    expect((await db.accessLog.findUniqueOrThrow({ where: { id: accessLogId } })).notifiedAt).toBeNull();
    expect(await deliverEntitlementWebhook(testApp.ctx, accessLogId, target)).toBe("delivered");
    expect(await deliverEntitlementWebhook(testApp.ctx, accessLogId, target)).toBe("already_delivered");
    expect(received.filter((r) => r.eventId === accessLogId)).toHaveLength(1);
  });

  it("the sweep queues grants and revokes whose webhook was never queued", async () => {
    const customerId = await insertCustomer(db);
    const old = await db.accessLog.create({
      data: {
        customerId,
        feature: "sso",
        action: "grant",
        after: { status: "active" },
        cause: "event:evt_lost",
        createdAt: new Date(Date.now() - 5 * 60_000),
      },
    });
    const change = await db.accessLog.create({
      data: {
        customerId,
        feature: "api_calls",
        action: "change",
        after: { status: "active" },
        cause: "event:evt_lost",
        createdAt: new Date(Date.now() - 5 * 60_000),
      },
    });
    expect(await sweepEntitlementWebhooks(testApp.ctx)).toBeGreaterThanOrEqual(1);
    const queue = entitlementQueue(testApp.ctx);
    expect(await queue.getJob(`${ENTITLEMENT_JOBS.deliverWebhook}_${old.id}`)).toBeDefined();
    expect(await queue.getJob(`${ENTITLEMENT_JOBS.deliverWebhook}_${change.id}`)).toBeUndefined();
  });
});
