import type { Command } from "commander";
import { buildApp } from "../../http/app.js";
import { STRIPE_API_VERSION } from "../../stripe/client.js";
import { createProcessContext, fail } from "../runtime.js";

export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("HTTP server: Stripe webhooks, product API, health")
    .action(async () => {
      const { ctx, logger } = createProcessContext();
      try {
        const app = await buildApp(ctx);
        await app.listen({ port: ctx.config.port, host: ctx.config.host });
        logger.info({ port: ctx.config.port, stripe_api_version: STRIPE_API_VERSION }, "serve started");
        const stop = async () => {
          await app.close();
          await ctx.close();
          process.exit(0);
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      } catch (error) {
        await ctx.close().catch(() => {});
        fail(`serve failed: ${(error as Error).message}`);
      }
    });
}
