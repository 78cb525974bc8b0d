import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerMetrics } from "../../../src/http/metrics.js";
import { registerUsageRoutes } from "../../../src/http/routes/usage.js";
import { createTestApp, type TestApp } from "../../support/app.js";

let t: TestApp;
let app: FastifyInstance;

beforeAll(async () => {
  t = await createTestApp();
  // Assembled as app.ts does: metrics on the root first, then the product routes in their own scope.
  app = Fastify();
  await registerMetrics(app);
  await app.register(async (scope) => registerUsageRoutes(scope, t.ctx));
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await t?.close();
});

function metricValue(text: string, line: RegExp): number {
  const match = text.split("\n").find((row) => line.test(row));
  return match === undefined ? 0 : Number(match.split(" ").at(-1));
}

describe("GET /metrics", () => {
  it("counts usage by outcome and times requests by route pattern", async () => {
    const event = { usage_id: "m1", customer: "cus_metrics", feature: "tokens", quantity: 2 };
    const post = (payload: object) => app.inject({ method: "POST", url: "/v1/usage", payload });
    await post(event);
    await post(event);
    await post({ ...event, quantity: 3 });
    await post({ ...event, usage_id: "m2", quantity: 0.5 });
    await post({
      events: [
        { ...event, usage_id: "m3" },
        { ...event, usage_id: "m1" },
      ],
    });

    const response = await app.inject({ method: "GET", url: "/metrics" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/plain/);
    const text = response.body;
    expect(metricValue(text, /^leakguard_usage_events_total\{outcome="recorded"\}/)).toBe(2);
    expect(metricValue(text, /^leakguard_usage_events_total\{outcome="duplicate"\}/)).toBe(2);
    expect(metricValue(text, /^leakguard_usage_events_total\{outcome="conflict"\}/)).toBe(1);
    expect(metricValue(text, /^leakguard_usage_events_total\{outcome="invalid"\}/)).toBe(1);
    expect(
      metricValue(
        text,
        /^leakguard_http_request_duration_seconds_count\{method="POST",route="\/v1\/usage",status_code="200"\}/,
      ),
    ).toBe(3);
    expect(text).toContain("leakguard_process_cpu_seconds_total");
  });

  it("keeps each app's counters to itself", async () => {
    const other = Fastify();
    await registerMetrics(other);
    const text = (await other.inject({ method: "GET", url: "/metrics" })).body;
    expect(metricValue(text, /^leakguard_usage_events_total\{outcome="recorded"\}/)).toBe(0);
    await other.close();
  });
});
