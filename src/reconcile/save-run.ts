import { type Db, Prisma } from "../db/client.js";
import { buildReport, type Report } from "../report/report.js";
import type { FindingDraft } from "./findings.js";

export type RunRow = { id: string; periodFrom: Date; periodTo: Date };

/**
 * In one transaction: upserts each finding by fingerprint (the same problem seen again keeps its id and first
 * sighting, and takes the new amounts), links it to the run, stores the report and marks the run completed.
 */
export async function saveRunResults(
  db: Db,
  run: RunRow,
  findings: readonly FindingDraft[],
  defaultCurrency: string,
): Promise<Report> {
  return db.$transaction(
    async (tx) => {
      const now = new Date();
      const rows = [];
      for (const finding of findings) {
        const values = {
          category: finding.category,
          customerId: finding.customerId,
          feature: finding.feature,
          expected: finding.expected,
          actual: finding.actual,
          amountMinor: new Prisma.Decimal(finding.amountMinor),
          currency: finding.currency,
          evidence: finding.evidence as Prisma.InputJsonObject,
          lastSeenAt: now,
        };
        rows.push(
          await tx.finding.upsert({
            where: { fingerprint: finding.fingerprint },
            create: { fingerprint: finding.fingerprint, firstSeenAt: now, ...values },
            update: values,
          }),
        );
      }
      await tx.runFinding.createMany({
        data: rows.map((row) => ({ runId: run.id, findingId: row.id })),
        skipDuplicates: true,
      });
      const report = buildReport({
        runId: run.id,
        periodFrom: run.periodFrom,
        periodTo: run.periodTo,
        generatedAt: now,
        findings: rows,
        defaultCurrency,
      });
      await tx.reconciliationRun.update({
        where: { id: run.id },
        data: { status: "completed", finishedAt: now, report: report as unknown as Prisma.InputJsonObject },
      });
      return report;
    },
    { maxWait: 10_000, timeout: 120_000 },
  );
}

/** Records why a run stopped; the run row is the operator's view of a failure. */
export async function saveRunFailure(db: Db, runId: string, error: unknown): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  await db.reconciliationRun.update({
    where: { id: runId },
    data: { status: "failed", finishedAt: new Date(), error: message.slice(0, 2000) },
  });
}
