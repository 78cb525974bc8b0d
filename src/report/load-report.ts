import type { Db } from "../db/client.js";
import { DomainError } from "../errors.js";
import { inContractOrder, type Report } from "./report.js";

/** The report stored on a completed run: "latest" is the most recently finished one. */
export async function loadReport(db: Db, which: string): Promise<Report> {
  const run =
    which === "latest"
      ? await db.reconciliationRun.findFirst({
          where: { status: "completed" },
          orderBy: [{ finishedAt: "desc" }, { startedAt: "desc" }],
        })
      : await db.reconciliationRun.findUnique({ where: { id: which } });
  if (run === null || run.status !== "completed" || run.report === null) {
    const detail =
      run === null
        ? ""
        : run.status === "failed"
          ? ` (run ${run.id} failed: ${run.error ?? "unknown error"})`
          : ` (run ${run.id} is ${run.status})`;
    throw new DomainError(
      "report_not_found",
      which === "latest" ? "no reconciliation has completed yet" : `no report ${which}${detail}`,
      { report: which },
    );
  }
  return inContractOrder(run.report as unknown as Report);
}
