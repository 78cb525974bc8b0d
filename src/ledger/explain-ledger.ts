import type { AppContext } from "../app-context.js";
import { Prisma } from "../db/client.js";
import { DomainError } from "../errors.js";
import type { LedgerRow } from "./explain-entry.js";
import { LEDGER_ROW_SELECT, requireLedgerCustomer, toLedgerRow } from "./load-ledger.js";

export type FeatureLedgerSummary = {
  feature: string;
  /** Every ledger row of the feature in the window, of any kind. */
  entries: number;
  /** Sum of the usage rows, exact. */
  total: string;
  reported: number;
  unreported: number;
  /** Usage rows Stripe refused: recorded but never billed. */
  refused: number;
  last: LedgerRow[];
};

export type LedgerExplanation = {
  customer: string;
  customerId: string;
  from: Date | null;
  to: Date | null;
  features: FeatureLedgerSummary[];
};

export type LedgerExplainQuery = {
  customer: string;
  feature?: string;
  from?: Date;
  to?: Date;
  /** How many of the newest entries to show per feature. */
  lastEntries?: number;
};

function countsByFeature(rows: { feature: string; _count: { _all: number } }[]): Map<string, number> {
  return new Map(rows.map((row) => [row.feature, row._count._all]));
}

/** Per feature: how many entries, how much usage, how much of it Stripe has, and the newest entries. */
export async function loadLedgerExplanation(
  ctx: Pick<AppContext, "db">,
  query: LedgerExplainQuery,
): Promise<LedgerExplanation> {
  if (query.from && query.to && query.from >= query.to) {
    throw new DomainError("validation_failed", "--from must be before --to");
  }
  const customerId = await requireLedgerCustomer(ctx.db, query.customer);
  const where: Prisma.LedgerEntryWhereInput = {
    customerId,
    ...(query.feature ? { feature: query.feature } : {}),
    occurredAt: { ...(query.from ? { gte: query.from } : {}), ...(query.to ? { lt: query.to } : {}) },
  };
  const usage: Prisma.LedgerEntryWhereInput = { ...where, kind: "usage" };
  const [all, totals, reported, refused] = await Promise.all([
    ctx.db.ledgerEntry.groupBy({ by: ["feature"], where, _count: { _all: true } }),
    ctx.db.ledgerEntry.groupBy({
      by: ["feature"],
      where: usage,
      _sum: { quantity: true },
      _count: { _all: true },
    }),
    ctx.db.ledgerEntry.groupBy({
      by: ["feature"],
      where: { ...usage, reportedAt: { not: null } },
      _count: { _all: true },
    }),
    ctx.db.ledgerEntry.groupBy({
      by: ["feature"],
      where: { ...usage, reportedAt: null, reportError: { not: null } },
      _count: { _all: true },
    }),
  ]);
  const reportedBy = countsByFeature(reported);
  const refusedBy = countsByFeature(refused);
  const usageBy = new Map(totals.map((row) => [row.feature, row]));
  const features = all.map((row) => row.feature).sort();
  const last = await Promise.all(
    features.map((feature) =>
      ctx.db.ledgerEntry.findMany({
        where: { ...where, feature },
        orderBy: [{ occurredAt: "desc" }, { id: "desc" }],
        take: query.lastEntries ?? 5,
        select: LEDGER_ROW_SELECT,
      }),
    ),
  );
  return {
    customer: query.customer,
    customerId,
    from: query.from ?? null,
    to: query.to ?? null,
    features: features.map((feature, index) => {
      const usageRow = usageBy.get(feature);
      const usageCount = usageRow?._count._all ?? 0;
      const reportedCount = reportedBy.get(feature) ?? 0;
      const refusedCount = refusedBy.get(feature) ?? 0;
      return {
        feature,
        entries: all.find((row) => row.feature === feature)?._count._all ?? 0,
        total: (usageRow?._sum.quantity ?? new Prisma.Decimal(0)).toFixed(),
        reported: reportedCount,
        unreported: usageCount - reportedCount - refusedCount,
        refused: refusedCount,
        last: last[index]!.map(toLedgerRow),
      };
    }),
  };
}
