import { type Db, Prisma } from "../db/client.js";
import { buildReport, type Report, type WebhookStats } from "../report/report.js";
import type { FindingDraft, FindingResolution } from "./findings.js";

export type RunRow = { id: string; periodFrom: Date; periodTo: Date };

const TRANSACTION = { maxWait: 10_000, timeout: 120_000 };

/**
 * In one transaction: upserts each finding by fingerprint (the same problem seen again keeps its id and first
 * sighting, takes the new amounts and is open again until this run fixes it) and links it to the run.
 */
export async function saveRunFindings(db: Db, run: RunRow, findings: readonly FindingDraft[]): Promise<void> {
  await db.$transaction(async (tx) => {
    const now = new Date();
    const ids: string[] = [];
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
        status: "open",
        lastSeenAt: now,
      };
      const row = await tx.finding.upsert({
        where: { fingerprint: finding.fingerprint },
        create: { fingerprint: finding.fingerprint, firstSeenAt: now, ...values },
        update: values,
        select: { id: true },
      });
      ids.push(row.id);
    }
    await tx.runFinding.createMany({
      data: ids.map((findingId) => ({ runId: run.id, findingId })),
      skipDuplicates: true,
    });
  }, TRANSACTION);
}

/**
 * In one transaction: records what the run did about its findings, stores the report of every finding the run saw
 * and marks the run completed.
 */
export async function saveRunReport(
  db: Db,
  run: RunRow,
  findings: readonly FindingDraft[],
  resolutions: readonly FindingResolution[],
  defaultCurrency: string,
  webhooks?: WebhookStats,
): Promise<Report> {
  return db.$transaction(async (tx) => {
    const now = new Date();
    for (const resolution of resolutions) {
      await tx.finding.update({
        where: { fingerprint: resolution.fingerprint },
        data: { status: resolution.status, evidence: resolution.evidence as Prisma.InputJsonObject },
      });
    }
    const rows = await tx.finding.findMany({
      where: { fingerprint: { in: findings.map((finding) => finding.fingerprint) } },
    });
    const report = buildReport({
      runId: run.id,
      periodFrom: run.periodFrom,
      periodTo: run.periodTo,
      generatedAt: now,
      findings: rows,
      defaultCurrency,
      ...(webhooks ? { webhooks } : {}),
    });
    await tx.reconciliationRun.update({
      where: { id: run.id },
      data: { status: "completed", finishedAt: now, report: report as unknown as Prisma.InputJsonObject },
    });
    return report;
  }, TRANSACTION);
}

/** Records why a run stopped; the run row is the operator's view of a failure. */
export async function saveRunFailure(db: Db, runId: string, error: unknown): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  await db.reconciliationRun.update({
    where: { id: runId },
    data: { status: "failed", finishedAt: new Date(), error: message.slice(0, 2000) },
  });
}
