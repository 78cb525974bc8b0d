import { type Command, InvalidArgumentError } from "commander";
import { loadLedgerExplanation } from "../../ledger/explain-ledger.js";
import { renderLedgerExplanation } from "../../ledger/render-explanation.js";
import { runWithDatabase } from "../runtime.js";
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
}
