import type { Command } from "commander";
import { applyMigrations, ensureDatabase } from "../../db/migrate.js";
import { fail, loadConnectionConfigOrExit } from "../runtime.js";

export function registerMigrateCommand(program: Command): void {
  program
    .command("migrate")
    .description("create the database if needed and apply prisma/migrations")
    .action(async () => {
      const config = loadConnectionConfigOrExit();
      try {
        await ensureDatabase(config.databaseUrl);
        const result = await applyMigrations(config.databaseUrl, (message) =>
          process.stdout.write(`${message}\n`),
        );
        process.stdout.write(
          `migrations: ${result.applied.length} applied, ${result.alreadyApplied.length} already applied\n`,
        );
      } catch (error) {
        fail(`migrate failed: ${(error as Error).message}`);
      }
    });
}
