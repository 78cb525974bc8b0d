import type { Config } from "./config/config.js";
import type { Logger } from "./config/logger.js";
import { createDb, type Db } from "./db/client.js";
import { type Catalog, loadCatalog } from "./entitlements/catalog.js";
import { createRedis, type RedisConnection } from "./queue/connection.js";
import type { Queue } from "./queue/queues.js";
import { createQueue } from "./queue/queues.js";
import { QUEUES } from "./queue/registry.js";
import { createStripe, type StripeClient } from "./stripe/client.js";

/** Everything a process needs, built once at start and passed down (no module-level singletons). */
export type AppContext = {
  config: Config;
  logger: Logger;
  /** What each Stripe price or product grants (LEAKGUARD_CATALOG), validated at start. */
  catalog: Catalog;
  db: Db;
  stripe: StripeClient;
  redis: RedisConnection;
  queues: { stripeEvents: Queue; reconcile: Queue; maintenance: Queue; entitlements: Queue };
  close: () => Promise<void>;
};

/** Throws CatalogError (naming the path and the problem) before opening any connection when the catalog is bad. */
export function createAppContext(config: Config, logger: Logger): AppContext {
  const catalog = loadCatalog(config.catalogPath);
  for (const warning of catalog.warnings)
    logger.warn({ catalog: config.catalogPath, warning }, "catalog warning");
  const db = createDb(config.databaseUrl);
  const redis = createRedis(config.redisUrl);
  const queueCtx = { connection: redis, prefix: config.queuePrefix };
  const queues = {
    stripeEvents: createQueue(queueCtx, QUEUES.stripeEvents),
    reconcile: createQueue(queueCtx, QUEUES.reconcile),
    maintenance: createQueue(queueCtx, QUEUES.maintenance),
    entitlements: createQueue(queueCtx, QUEUES.entitlements),
  };
  reportRedisErrors([redis, ...Object.values(queues)], logger);
  return {
    config,
    logger,
    catalog,
    db,
    stripe: createStripe(config.stripeSecretKey, config.stripeApiBase),
    redis,
    queues,
    close: async () => {
      await Promise.allSettled(Object.values(queues).map((queue) => queue.close()));
      redis.disconnect();
      await db.$disconnect();
    },
  };
}

type ErrorEmitter = { on(event: "error", listener: (error: Error) => void): unknown };

/**
 * ioredis and BullMQ retry forever while Redis is down and print every failed attempt unless someone listens;
 * say it once a minute in the log instead.
 */
function reportRedisErrors(emitters: ErrorEmitter[], logger: Logger): void {
  let lastLoggedAt = 0;
  const report = (error: Error) => {
    const now = Date.now();
    if (now - lastLoggedAt < 60_000) return;
    lastLoggedAt = now;
    logger.warn({ err: error.message }, "redis unavailable, retrying");
  };
  for (const emitter of emitters) emitter.on("error", report);
}
