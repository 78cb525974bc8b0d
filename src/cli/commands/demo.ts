import type { Command } from "commander";
import { DEMO_DATABASE, DemoError, runDemo } from "../../demo/run-demo.js";
import { MIN_SCENARIO_CUSTOMERS } from "../../demo/scenario.js";
import { fail, loadConnectionConfigOrExit } from "../runtime.js";

type DemoFlags = { seed: string; customers: string; database: string; dropDatabase?: boolean };

function integerAtLeast(name: string, value: string, minimum: number): number {
  if (!/^\d+$/.test(value) || Number(value) < minimum)
    fail(`--${name} must be an integer of at least ${minimum}, got "${value}"`);
  return Number(value);
}

export function registerDemoCommand(program: Command): void {
  program
    .command("demo")
    .description(
      "the main job end to end against a local Stripe stand-in: webhooks, usage, access, reconciliation, report",
    )
    .option("--seed <n>", "scenario seed (same seed, same customers and leakage)", "42")
    .option("--customers <n>", "how many customers the scenario has", "30")
    .option("--database <name>", "the demo's own database, dropped and recreated on every run", DEMO_DATABASE)
    .option("--drop-database", "drop the demo database at the end instead of keeping it for inspection")
    .action(async (flags: DemoFlags) => {
      // The demo drops and recreates this database: never let it name a real one.
      if (!/^[a-z0-9_]*demo[a-z0-9_]*$/.test(flags.database))
        fail(
          `--database "${flags.database}" must be a demo database: lowercase letters, digits and _, containing "demo" (it is dropped and recreated)`,
        );
      const config = loadConnectionConfigOrExit();
      try {
        const outcome = await runDemo({
          databaseUrl: config.databaseUrl,
          redisUrl: config.redisUrl,
          databaseName: flags.database,
          seed: integerAtLeast("seed", flags.seed, 0),
          customers: integerAtLeast("customers", flags.customers, MIN_SCENARIO_CUSTOMERS),
          interactive: process.stdout.isTTY === true,
          ...(flags.dropDatabase ? { dropDatabase: true } : {}),
        });
        process.exit(outcome.ok ? 0 : 1);
      } catch (error) {
        fail(
          `demo failed: ${error instanceof DemoError ? error.message : ((error as Error).stack ?? String(error))}`,
        );
      }
    });
}
