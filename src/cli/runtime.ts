import { type AppContext, createAppContext } from "../app-context.js";
import { type Config, type ConnectionConfig, loadConfig, loadConnectionConfig } from "../config/config.js";
import { createLogger, type Logger } from "../config/logger.js";
import { causeLine, createDb, type Db } from "../db/client.js";

/** Prints the one-line reason and exits 1: the CLI contract for every failure. */
export function fail(reason: string): never {
  process.stderr.write(`leakguard: ${causeLine(reason) ?? "failed"}\n`);
  process.exit(1);
}

/** Just where PostgreSQL and Redis are: for commands that need no Stripe or API secrets (migrate, demo). */
export function loadConnectionConfigOrExit(): ConnectionConfig {
  try {
    return loadConnectionConfig();
  } catch (error) {
    fail((error as Error).message);
  }
}

export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    fail((error as Error).message);
  }
}

/** Services log to stdout; one-shot commands log to stderr so stdout carries only what they print. */
export function createProcessContext(
  config: Config = loadConfigOrExit(),
  options: { logTo?: "stdout" | "stderr" } = {},
): { ctx: AppContext; logger: Logger } {
  const logger = createLogger(config.logLevel, { stream: options.logTo ?? "stdout" });
  try {
    return { ctx: createAppContext(config, logger), logger };
  } catch (error) {
    // A bad catalog stops start-up here, before any connection is open.
    fail((error as Error).message);
  }
}

/** Runs a one-shot command with a context and closes it, mapping any error to the one-line failure. */
export async function runOneShot(fn: (ctx: AppContext) => Promise<void>): Promise<void> {
  const { ctx } = createProcessContext(undefined, { logTo: "stderr" });
  try {
    await fn(ctx);
  } catch (error) {
    await ctx.close().catch(() => {});
    fail((error as Error).message);
  }
  await ctx.close();
}

/** Runs a read-only command that needs only the database (no Stripe, Redis or secrets), e.g. `report`. */
export async function runWithDatabase(fn: (ctx: { db: Db }) => Promise<void>): Promise<void> {
  const { databaseUrl } = loadConnectionConfigOrExit();
  const db = createDb(databaseUrl, { poolSize: 2 });
  try {
    await fn({ db });
  } catch (error) {
    await db.$disconnect().catch(() => {});
    fail((error as Error).message);
  }
  await db.$disconnect();
}
