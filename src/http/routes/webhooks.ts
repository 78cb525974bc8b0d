import type { FastifyInstance } from "fastify";
import type { AppContext } from "../../app-context.js";
import { createIntakeQueue } from "../../ingest/event-queue.js";
import { createIntakeStore } from "../../ingest/intake-store.js";
import { receiveStripeEvent } from "../../ingest/receive-event.js";
import { verifyStripeWebhook, type WebhookVerifyOptions } from "../../stripe/webhook-verify.js";

/** `POST /webhooks/stripe`: raw bytes in, verify, store, enqueue, 200. Registered in its own scope by the app. */
export async function registerWebhookRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const intake = createIntakeQueue(ctx.config, ctx.logger);
  const store = createIntakeStore(ctx.config.databaseUrl);
  app.addHook("onClose", async () => {
    await Promise.all([intake.close(), store.close()]);
  });
  // Signatures cover the exact bytes, so this scope keeps JSON bodies as Buffers.
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_request, body, done) =>
    done(null, body),
  );
  const verifyOptions: WebhookVerifyOptions = {
    secrets: ctx.config.stripeWebhookSecrets,
    toleranceSeconds: ctx.config.stripeWebhookToleranceSeconds,
  };

  app.post("/webhooks/stripe", async (request, reply) => {
    const verified = verifyStripeWebhook(
      request.body as Buffer | undefined,
      request.headers["stripe-signature"],
      verifyOptions,
    );
    if (!verified.ok) return reply.code(400).send({ error: "invalid_webhook", message: verified.reason });
    await receiveStripeEvent(store, intake, verified, ctx.logger);
    return reply.code(200).send({ received: true });
  });
}
