import { type Command, InvalidArgumentError } from "commander";
import { requireCustomerId } from "../../customers/resolve-customer.js";
import { checkUsageRollups } from "../../ledger/check-usage-rollups.js";
import { loadLedgerExplanation } from "../../ledger/explain-ledger.js";
import { renderLedgerExplanation } from "../../ledger/render-explanation.js";
import { fail, runWithDatabase } from "../runtime.js";
import { instantOption } from "../time-options.js";

function parseCount(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1 || count > 1000) {
    throw new InvalidArgumentError("must be a whole number from 1 to 1000");
  }
  return count;
}

export function registerLedgerCommands(program: Command): void {
  const ledger = program.command("ledger").description("read the usage ledger");
  ledger
    .command("explain")
    .description("per feature: entries, total, what Stripe has, and the newest entries of a customer")
    .argument("<customer>", "Stripe customer id or the product's own id")
    .option("--feature <feature>", "only this feature")
    .option("--from <time>", "entries that occurred at or after this time", instantOption("from"))
    .option("--to <time>", "entries that occurred before this time", instantOption("to"))
    .option("--last <count>", "newest entries to show per feature", parseCount, 5)
    .action(async (customer: string, options: { feature?: string; from?: Date; to?: Date; last: number }) => {
      await runWithDatabase(async (ctx) => {
        const explanation = await loadLedgerExplanation(ctx, {
          customer,
          feature: options.feature,
          from: options.from,
          to: options.to,
          lastEntries: options.last,
        });
        process.stdout.write(renderLedgerExplanation(explanation));
      });
    });

  ledger
    .command("check-totals")
    .description(
      "compare the usage rollups checks read with the ledger; exits 1 when they differ (--repair rebuilds them)",
    )
    .option("--customer <customer>", "only this customer (Stripe id or the product's own id)")
    .option("--repair", "rebuild the rollups from the ledger where they differ (inserts wait meanwhile)")
    .action(async (options: { customer?: string; repair?: boolean }) => {
      let differ = false;
      await runWithDatabase(async (ctx) => {
        const customerId = options.customer ? await requireCustomerId(ctx.db, options.customer) : undefined;
        process.stderr.write(
          `comparing usage rollups with the ledger${customerId ? ` of ${customerId}` : ""}...\n`,
        );
        const check = await checkUsageRollups(ctx.db, { customerId, repair: options.repair });
        process.stdout.write(
          `${check.buckets} buckets checked, ${check.drift.length} differ from the ledger${check.repaired ? ", rebuilt from the ledger" : ""}\n`,
        );
        for (const drift of check.drift.slice(0, 20))
          process.stdout.write(
            `  ${drift.customerId} ${drift.feature} ${drift.unit} ${drift.startsAt.toISOString()}: rollup ${drift.rollup}, ledger ${drift.ledger}\n`,
          );
        if (check.drift.length > 20) process.stdout.write(`  ... and ${check.drift.length - 20} more\n`);
        differ = check.drift.length > 0 && !check.repaired;
      });
      if (differ) fail("usage rollups differ from the ledger (run with --repair to rebuild them)");
    });
}
