import type { Command } from "commander";
import { runReconciliation } from "../../reconcile/run-reconciliation.js";
import { renderReport } from "../../report/render-report.js";
import { fail, runOneShot } from "../runtime.js";

const DATE_HINT = "use an ISO date such as 2026-11-01 or 2026-11-01T00:00:00Z";

/** A date (UTC midnight) or a date-time with its zone; a zone-less time would depend on this machine's clock. */
export function parseInstant(name: string, value: string | undefined): Date {
  if (value === undefined) fail(`missing --${name} (${DATE_HINT})`);
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const dateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value);
  const instant = new Date(dateOnly ? `${value}T00:00:00Z` : value);
  if ((!dateOnly && !dateTime) || Number.isNaN(instant.getTime())) {
    fail(`--${name} "${value}" is not a date with a time zone (${DATE_HINT})`);
  }
  return instant;
}

export function registerReconcileCommand(program: Command): void {
  program
    .command("reconcile")
    .description(
      "reconcile [from, to) now: diff the ledger and access against what Stripe billed, print the report",
    )
    .option("--from <iso>", "start of the period (inclusive)")
    .option("--to <iso>", "end of the period (exclusive)")
    .option("--json", "print the report as JSON instead of Markdown")
    .action(async (options: { from?: string; to?: string; json?: boolean }) => {
      const from = parseInstant("from", options.from);
      const to = parseInstant("to", options.to);
      if (from >= to) fail(`--from ${options.from} must be before --to ${options.to}`);
      await runOneShot(async (ctx) => {
        const { report } = await runReconciliation(ctx, { from, to, trigger: "cli" }, (message) =>
          process.stderr.write(`${message}\n`),
        );
        process.stdout.write(renderReport(report, options.json ? "json" : "md"));
      });
    });
}
