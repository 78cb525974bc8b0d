import type { Command } from "commander";
import { loadReport } from "../../report/load-report.js";
import { isReportFormat, REPORT_FORMATS, renderReport } from "../../report/render-report.js";
import { fail, runWithDatabase } from "../runtime.js";

export function registerReportCommand(program: Command): void {
  program
    .command("report")
    .description("print a stored reconciliation report")
    .argument("[run]", '"latest" or a run id', "latest")
    .option("--format <format>", `one of ${REPORT_FORMATS.join(", ")}`, "md")
    .action(async (run: string, options: { format: string }) => {
      const format = options.format;
      if (!isReportFormat(format)) fail(`unknown format "${format}" (use ${REPORT_FORMATS.join(", ")})`);
      await runWithDatabase(async (ctx) => {
        process.stdout.write(renderReport(await loadReport(ctx.db, run), format));
      });
    });
}
