import type { FastifyInstance } from "fastify";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** One registry per app, so two apps in one process (tests, serve + worker) never share counters. */
export type AppMetrics = {
  registry: Registry;
  usageEvents: Counter<"outcome">;
  httpDuration: Histogram<"method" | "route" | "status_code">;
};

declare module "fastify" {
  interface FastifyInstance {
    metrics?: AppMetrics;
  }
}

export type UsageMetricOutcome = "recorded" | "duplicate" | "conflict" | "invalid";

export function createAppMetrics(): AppMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "leakguard_" });
  return {
    registry,
    usageEvents: new Counter({
      name: "leakguard_usage_events_total",
      help: "Usage events received, by outcome (recorded, duplicate, conflict, invalid)",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "leakguard_http_request_duration_seconds",
      help: "HTTP request duration by method, route pattern and status code",
      labelNames: ["method", "route", "status_code"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

/**
 * Adds `GET /metrics` (Prometheus text) and times every request. Call it on the root app before any
 * route is registered: Fastify copies hooks into a plugin scope when the scope is created.
 */
export async function registerMetrics(app: FastifyInstance): Promise<AppMetrics> {
  const metrics = createAppMetrics();
  app.decorate("metrics", metrics);
  app.addHook("onResponse", async (request, reply) => {
    // The route pattern, not the URL, so customer ids never become label values.
    const route = request.routeOptions.url ?? "unmatched";
    metrics.httpDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.get("/metrics", async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
  return metrics;
}

/** Counts usage outcomes on the app's registry; a no-op when metrics are not registered. */
export function countUsageOutcomes(app: FastifyInstance, outcomes: Iterable<UsageMetricOutcome>): void {
  const counter = app.metrics?.usageEvents;
  if (counter === undefined) return;
  for (const outcome of outcomes) counter.inc({ outcome });
}
