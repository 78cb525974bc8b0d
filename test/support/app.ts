import type { FastifyInstance } from "fastify";
import { type AppContext, createAppContext } from "../../src/app-context.js";
import { loadConfig } from "../../src/config/config.js";
import { createLogger } from "../../src/config/logger.js";
import type { Db } from "../../src/db/client.js";
import { buildApp } from "../../src/http/app.js";
import { createTestDb } from "./db.js";
import { TEST_API_KEY, TEST_SECRETS } from "./env.js";
import { createTestQueuePrefix } from "./queue.js";

export { TEST_API_KEY };

export type TestApp = {
  ctx: AppContext;
  app: FastifyInstance;
  db: Db;
  /** `Authorization` header value the product API accepts. */
  auth: { authorization: string };
  close: () => Promise<void>;
};

export type TestAppOptions = {
  /** Extra environment (e.g. STRIPE_API_BASE); the database, Redis, queue prefix and API key are set here. */
  env?: Record<string, string>;
  /** Adjusts the context before the app is built (e.g. to attach a catalog). */
  extend?: (ctx: AppContext) => AppContext;
};

/** A whole app on a database and queue prefix of this test file's own; close() removes both. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const testDb = await createTestDb();
  const queue = createTestQueuePrefix();
  const config = loadConfig({
    ...TEST_SECRETS,
    DATABASE_URL: testDb.url,
    REDIS_URL: queue.redisUrl,
    LEAKGUARD_QUEUE_PREFIX: queue.prefix,
    LEAKGUARD_API_KEYS: TEST_API_KEY,
    LOG_LEVEL: "silent",
    ...options.env,
  });
  const base = createAppContext(config, createLogger(config.logLevel));
  const ctx = options.extend ? options.extend(base) : base;
  const app = await buildApp(ctx);
  await app.ready();
  return {
    ctx,
    app,
    db: ctx.db,
    auth: { authorization: `Bearer ${TEST_API_KEY}` },
    close: async () => {
      await app.close();
      await ctx.close();
      await testDb.drop();
      await queue.cleanup();
    },
  };
}
