import type { Command } from "commander";
import { startWorkers } from "../../worker/start-workers.js";
import { createProcessContext, fail } from "../runtime.js";

export function registerWorkerCommand(program: Command): void {
  program
    .command("worker")
    .description("BullMQ workers: Stripe events, reconciliation, scheduled jobs")
    .action(async () => {
      const { ctx, logger } = createProcessContext();
      try {
        const workers = await startWorkers(ctx);
        const stop = async () => {
          await workers.close();
          await ctx.close();
          process.exit(0);
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        logger.info("worker started");
      } catch (error) {
        await ctx.close().catch(() => {});
        fail(`worker failed: ${(error as Error).message}`);
      }
    });
}
