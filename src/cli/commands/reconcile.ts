import type { Command } from "commander";
import { runReconciliation } from "../../reconcile/run-reconciliation.js";
import { renderReport } from "../../report/render-report.js";
import { fail, runOneShot } from "../runtime.js";
import { parseInstant } from "../time-options.js";

/** The command's period from its --from/--to strings (see parseInstant), or the one-line reason it is not one. */
export function parsePeriod(
  from: string | undefined,
  to: string | undefined,
): { ok: true; from: Date; to: Date } | { ok: false; reason: string } {
  const start = parseInstant("from", from);
  if (!start.ok) return start;
  const end = parseInstant("to", to);
  if (!end.ok) return end;
  if (start.instant >= end.instant) return { ok: false, reason: `--from ${from} must be before --to ${to}` };
  return { ok: true, from: start.instant, to: end.instant };
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
      const period = parsePeriod(options.from, options.to);
      if (!period.ok) fail(period.reason);
      const { from, to } = period;
      await runOneShot(async (ctx) => {
        // Progress lines on stderr say what the run does; its own info logs would only repeat them.
        const quiet = { ...ctx, logger: ctx.logger.child({}, { level: "warn" }) };
        const { report } = await runReconciliation(quiet, { from, to, trigger: "cli" }, (message) =>
          process.stderr.write(`${message}\n`),
        );
        process.stdout.write(renderReport(report, options.json ? "json" : "md"));
      });
    });
}
