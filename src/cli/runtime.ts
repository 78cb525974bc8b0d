import { type AppContext, createAppContext } from "../app-context.js";
import { type Config, loadConfig } from "../config/config.js";
import { createLogger, type Logger } from "../config/logger.js";

/** Prints the one-line reason and exits 1: the CLI contract for every failure. */
export function fail(reason: string): never {
  process.stderr.write(`leakguard: ${reason}\n`);
  process.exit(1);
}

export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    fail((error as Error).message);
  }
}

export function createProcessContext(config: Config = loadConfigOrExit()): {
  ctx: AppContext;
  logger: Logger;
} {
  const logger = createLogger(config.logLevel);
  return { ctx: createAppContext(config, logger), logger };
}

/** Runs a one-shot command with a context and closes it, mapping any error to the one-line failure. */
export async function runOneShot(fn: (ctx: AppContext) => Promise<void>): Promise<void> {
  const { ctx } = createProcessContext();
  try {
    await fn(ctx);
  } catch (error) {
    await ctx.close().catch(() => {});
    fail((error as Error).message);
  }
  await ctx.close();
}
