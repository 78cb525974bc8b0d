import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import { ZodError } from "zod";
import type { AppContext } from "../app-context.js";
import { pingDatabase } from "../db/health.js";
import { isDomainError } from "../errors.js";
import { registerQueueDashboard } from "../queue/dashboard.js";
import { pingRedis } from "../queue/health.js";
import { requireApiKey } from "./auth.js";
import { registerMetrics } from "./metrics.js";
import { registerEntitlementRoutes } from "./routes/entitlements.js";
import { registerLedgerRoutes } from "./routes/ledger.js";
import { registerReportRoutes } from "./routes/reports.js";
import { registerUsageRoutes } from "./routes/usage.js";
import { registerWebhookRoutes } from "./routes/webhooks.js";

/** Domain error code -> HTTP status. Anything not listed is a 422. */
const STATUS_BY_CODE: Record<string, number> = {
  validation_failed: 400,
  customer_not_found: 404,
  feature_not_found: 404,
  report_not_found: 404,
  usage_conflict: 409,
};

export async function buildApp(ctx: AppContext): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 5 * 1024 * 1024,
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof ZodError) {
      const issue = error.issues[0];
      return reply.code(400).send({
        error: "validation_failed",
        message: issue ? `${issue.path.join(".") || "body"}: ${issue.message}` : "invalid request",
      });
    }
    if (isDomainError(error)) {
      return reply
        .code(STATUS_BY_CODE[error.code] ?? 422)
        .send({ error: error.code, message: error.message, ...error.details });
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.code(status).send({ error: "bad_request", message: (error as Error).message });
    }
    request.log.error({ err: error }, "request failed");
    return reply.code(500).send({ error: "internal", message: "internal error" });
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: "not_found", message: `no route ${request.method} ${request.url.split("?")[0]}` }),
  );

  // On the root app before any route, so every route is timed.
  await registerMetrics(app);

  // 503 only when the database is down: without Redis, webhooks are still stored and queued later.
  app.get("/health", async (_request, reply) => {
    const [database, redis] = await Promise.all([pingDatabase(ctx.db), pingRedis(ctx.redis)]);
    const ok = database === "ok";
    return reply.code(ok ? 200 : 503).send({ ok, database, redis });
  });

  // Stripe webhooks: signature-authenticated, raw body.
  await app.register(async (scope) => registerWebhookRoutes(scope, ctx));

  // Product API: API-key authenticated.
  await app.register(async (scope) => {
    scope.addHook("preHandler", requireApiKey(ctx.config.apiKeys));
    await registerUsageRoutes(scope, ctx);
    await registerEntitlementRoutes(scope, ctx);
    await registerLedgerRoutes(scope, ctx);
    await registerReportRoutes(scope, ctx);
  });

  // Queue dashboard: same keys, Basic auth accepted so a browser can open it.
  await app.register(async (scope) => {
    scope.addHook("onRequest", requireApiKey(ctx.config.apiKeys, { browser: true }));
    await registerQueueDashboard(scope, Object.values(ctx.queues));
  });

  return app;
}
