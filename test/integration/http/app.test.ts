import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAppContext } from "../../../src/app-context.js";
import { loadConfig } from "../../../src/config/config.js";
import { createLogger } from "../../../src/config/logger.js";
import { buildApp } from "../../../src/http/app.js";
import { createTestApp, TEST_API_KEY, type TestApp } from "../../support/app.js";
import { databaseUrl, TEST_SECRETS } from "../../support/env.js";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

describe("http app", () => {
  it("answers health without a key", async () => {
    const res = await t.app.inject({ method: "GET", url: "/health" });
    expect(res.statusCode).toBe(200);
  });

  it("reports the database and Redis as reachable in health", async () => {
    const res = await t.app.inject({ method: "GET", url: "/health" });
    expect(res.json()).toEqual({ ok: true, database: "ok", redis: "ok" });
  });

  it("answers health 503 naming the database when it cannot be reached, and says Redis is down", async () => {
    const config = loadConfig({
      ...TEST_SECRETS,
      DATABASE_URL: databaseUrl("leakguard_no_such_database"),
      REDIS_URL: "redis://127.0.0.1:6390",
      LOG_LEVEL: "silent",
    });
    const ctx = createAppContext(config, createLogger("silent"));
    const app = await buildApp(ctx);
    try {
      const res = await app.inject({ method: "GET", url: "/health" });
      expect(res.statusCode).toBe(503);
      const body = res.json() as { ok: boolean; database: string; redis: string };
      expect(body.ok).toBe(false);
      expect(body.database).toContain("leakguard_no_such_database");
      expect(body.redis).toMatch(/^not connected/);
    } finally {
      await app.close();
      ctx.redis.disconnect();
      await ctx.db.$disconnect();
    }
  });

  it("exposes Prometheus metrics", async () => {
    await t.app.inject({ method: "GET", url: "/health" });
    const res = await t.app.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('route="/health"');
  });

  it("keeps the queue dashboard behind the API keys", async () => {
    const anonymous = await t.app.inject({ method: "GET", url: "/admin/queues" });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers["www-authenticate"]).toContain("Basic");

    const wrong = await t.app.inject({
      method: "GET",
      url: "/admin/queues/api/queues",
      headers: { authorization: `Basic ${Buffer.from("x:wrong").toString("base64")}` },
    });
    expect(wrong.statusCode).toBe(401);

    const basic = await t.app.inject({
      method: "GET",
      url: "/admin/queues/api/queues",
      headers: { authorization: `Basic ${Buffer.from(`admin:${TEST_API_KEY}`).toString("base64")}` },
    });
    expect(basic.statusCode).toBe(200);
    const names = (basic.json() as { queues: { name: string }[] }).queues.map((queue) => queue.name);
    expect(names).toEqual(expect.arrayContaining(["stripe-events", "reconcile", "maintenance"]));
  });

  it("rejects the product API without a key and answers unknown routes with 404", async () => {
    const noKey = await t.app.inject({ method: "GET", url: "/v1/customers/cus_x/entitlements" });
    expect(noKey.statusCode).toBe(401);
    const missing = await t.app.inject({ method: "GET", url: "/nope?x=1" });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: "not_found", message: "no route GET /nope" });
  });
});

describe("report routes", () => {
  it("answer an id Postgres could not store with a 400, not a 500", async () => {
    const res = await t.app.inject({ method: "GET", url: "/v1/reports/%00", headers: t.auth });
    expect(res.statusCode).toBe(400);
    expect((res.json() as { error: string }).error).toBe("validation_failed");
  });
});
