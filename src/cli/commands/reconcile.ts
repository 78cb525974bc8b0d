import type { Command } from "commander";
import { runReconciliation } from "../../reconcile/run-reconciliation.js";
import { renderReport } from "../../report/render-report.js";
import { fail, runOneShot } from "../runtime.js";

const DATE_HINT = "use an ISO date such as 2026-11-01 or 2026-11-01T00:00:00Z";

/**
 * The command's period from its --from/--to strings, or the one-line reason it is not one. A date is UTC
 * midnight; a date-time needs its zone, since a zone-less time would depend on this machine's clock.
 */
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

function parseInstant(
  name: string,
  value: string | undefined,
): { ok: true; instant: Date } | { ok: false; reason: string } {
  if (value === undefined) return { ok: false, reason: `missing --${name} (${DATE_HINT})` };
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const dateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value);
  const instant = new Date(dateOnly ? `${value}T00:00:00Z` : value);
  if ((!dateOnly && !dateTime) || Number.isNaN(instant.getTime()) || !isCalendarDate(value.slice(0, 10))) {
    return { ok: false, reason: `--${name} "${value}" is not a date with a time zone (${DATE_HINT})` };
  }
  return { ok: true, instant };
}

/** JavaScript rolls 2026-02-30 over to March 2; a period boundary must be a day that exists. */
function isCalendarDate(date: string): boolean {
  const [year, month, day] = date.split("-").map(Number) as [number, number, number];
  const utc = new Date(Date.UTC(year, month - 1, day));
  return utc.getUTCFullYear() === year && utc.getUTCMonth() === month - 1 && utc.getUTCDate() === day;
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
