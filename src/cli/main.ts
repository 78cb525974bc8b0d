#!/usr/bin/env node
import { Command } from "commander";
import { registerCatalogCommand } from "./commands/catalog.js";
import { registerDemoCommand } from "./commands/demo.js";
import { registerDoctorCommand } from "./commands/doctor.js";
import { registerEventsCommands } from "./commands/events.js";
import { registerLedgerCommands } from "./commands/ledger.js";
import { registerMigrateCommand } from "./commands/migrate.js";
import { registerReconcileCommand } from "./commands/reconcile.js";
import { registerReportCommand } from "./commands/report.js";
import { registerServeCommand } from "./commands/serve.js";
import { registerWorkerCommand } from "./commands/worker.js";

const program = new Command()
  .name("leakguard")
  .description("keeps a usage-priced product's usage, access and revenue aligned with Stripe")
  // Usage mistakes end like every other failure: one line, exit 1 (`--help` shows the rest).
  .showSuggestionAfterError()
  .configureOutput({
    outputError: (message, write) => write(`leakguard: ${message.replace(/^error: /, "").trim()}\n`),
  })
  .exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : 1);
  });

registerMigrateCommand(program);
registerServeCommand(program);
registerWorkerCommand(program);
registerReconcileCommand(program);
registerReportCommand(program);
registerLedgerCommands(program);
registerEventsCommands(program);
registerDemoCommand(program);
registerDoctorCommand(program);
registerCatalogCommand(program);

await program.parseAsync(process.argv);
