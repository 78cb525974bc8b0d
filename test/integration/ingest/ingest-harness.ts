import { randomBytes } from "node:crypto";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { type AppContext, createAppContext } from "../../../src/app-context.js";
import { loadConfig } from "../../../src/config/config.js";
import { createLogger, type Logger } from "../../../src/config/logger.js";
import { buildApp } from "../../../src/http/app.js";
import type { ApplyStripeEvent } from "../../../src/ingest/process-event-job.js";
import { processStripeEventJob } from "../../../src/ingest/process-event-job.js";
import { createRedis } from "../../../src/queue/connection.js";
import { createWorker } from "../../../src/queue/queues.js";
import { QUEUES } from "../../../src/queue/registry.js";
import { signWebhookPayload } from "../../../src/stripe/webhook-signature.js";
import { createTestDb } from "../../support/db.js";
import { TEST_SECRETS } from "../../support/env.js";
import { createTestQueuePrefix } from "../../support/queue.js";

export const WEBHOOK_SECRET = "whsec_current_ingest_test";
export const PREVIOUS_WEBHOOK_SECRET = "whsec_previous_ingest_test";
/** nock intercepts this host; nothing listens there. */
export const STRIPE_API_BASE = "http://stripe.ingest.test";

export type IngestHarness = {
  ctx: AppContext;
  app: FastifyInstance;
  log: Logger;
  postEvent: (body: string, signing?: Signing) => Promise<LightMyRequestResponse>;
  /** Runs the stripe-events worker with the given apply until stop() is called. */
  startWorker: (apply: ApplyStripeEvent) => { stop: () => Promise<void> };
  close: () => Promise<void>;
};

export type Signing = { secret?: string; timestamp?: number; header?: string };

export type HarnessOptions = {
  /** Points only the webhook intake's queue elsewhere (e.g. a closed port); workers and ctx.queues stay on Redis. */
  intakeRedisUrl?: string;
  extend?: (ctx: AppContext) => AppContext;
};

/** The real app on a database and queue prefix of this file's own, plus helpers to sign and post events. */
export async function createIngestHarness(options: HarnessOptions = {}): Promise<IngestHarness> {
  const testDb = await createTestDb();
  const queuePrefix = createTestQueuePrefix();
  const config = loadConfig({
    ...TEST_SECRETS,
    DATABASE_URL: testDb.url,
    REDIS_URL: queuePrefix.redisUrl,
    LEAKGUARD_QUEUE_PREFIX: queuePrefix.prefix,
    STRIPE_WEBHOOK_SECRET: `${WEBHOOK_SECRET},${PREVIOUS_WEBHOOK_SECRET}`,
    STRIPE_API_BASE,
    LOG_LEVEL: "silent",
  });
  const log = createLogger("silent");
  const base = createAppContext(config, log);
  const withIntake =
    options.intakeRedisUrl === undefined
      ? base
      : { ...base, config: Object.freeze({ ...base.config, redisUrl: options.intakeRedisUrl }) };
  const ctx = options.extend ? options.extend(withIntake) : withIntake;
  const app = await buildApp(ctx);
  await app.ready();
  const workers: { close: () => Promise<void> }[] = [];

  return {
    ctx,
    app,
    log,
    postEvent: (body, signing = {}) =>
      app.inject({
        method: "POST",
        url: "/webhooks/stripe",
        headers: {
          "content-type": "application/json",
          "stripe-signature":
            signing.header ?? signWebhookPayload(body, signing.secret ?? WEBHOOK_SECRET, signing.timestamp),
        },
        payload: body,
      }),
    startWorker: (apply) => {
      const connection = createRedis(config.redisUrl);
      const worker = createWorker(
        { connection, prefix: config.queuePrefix, logger: log, concurrency: 4 },
        QUEUES.stripeEvents,
        (job, jobLog) => processStripeEventJob(ctx, job, jobLog, apply),
      );
      const handle = {
        close: async () => {
          await worker.close();
          connection.disconnect();
        },
      };
      workers.push(handle);
      return { stop: handle.close };
    },
    close: async () => {
      await Promise.allSettled(workers.map((worker) => worker.close()));
      await app.close();
      await ctx.close();
      await testDb.drop();
      await queuePrefix.cleanup();
    },
  };
}

export function newEventId(): string {
  return `evt_test${randomBytes(8).toString("hex")}`;
}

/** A minimal Stripe event envelope, serialised the way Stripe sends it. */
export function anEvent(
  overrides: { id?: string; type?: string; created?: number; object?: Record<string, unknown> } = {},
): { id: string; body: string } {
  const id = overrides.id ?? newEventId();
  const body = JSON.stringify(
    {
      id,
      object: "event",
      api_version: "2026-11-18.endive",
      created: overrides.created ?? Math.floor(Date.now() / 1000),
      data: { object: overrides.object ?? { id: "cus_ingest_test", object: "customer" } },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type: overrides.type ?? "customer.updated",
    },
    null,
    2,
  );
  return { id, body };
}

/** Polls until check() returns a value (not undefined), for work done by a worker. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
