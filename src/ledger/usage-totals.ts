import { type Db, Prisma } from "../db/client.js";

export type UsageWindow = { customerId: string; feature: string; from?: Date | null; to?: Date | null };

/** Net usage of a feature in [from, to), summed from the ledger (the truth), as an exact decimal. */
export async function loadUsageTotal(db: Db, window: UsageWindow): Promise<Prisma.Decimal> {
  const result = await db.ledgerEntry.aggregate({
    _sum: { quantity: true },
    where: {
      customerId: window.customerId,
      feature: window.feature,
      kind: "usage",
      occurredAt: {
        ...(window.from ? { gte: window.from } : {}),
        ...(window.to ? { lt: window.to } : {}),
      },
    },
  });
  return result._sum.quantity ?? new Prisma.Decimal(0);
}

/**
 * Each window `n` (1-based) summed by an index lookup, all in one statement. Times travel as UTC ISO strings: a
 * `timestamp` cast ignores the zone, matching the ledger's UTC `timestamp` column whatever the session's zone.
 */
const USAGE_TOTALS_SQL = `
SELECT w.n, (
  SELECT coalesce(sum(l.quantity), 0)::text FROM ledger_entries l
  WHERE l."customerId" = w.customer AND l.feature = w.feature AND l.kind = 'usage'
    AND l."occurredAt" >= w."from" AND l."occurredAt" < w."to") AS total
FROM unnest($1::text[], $2::text[], $3::timestamp(3)[], $4::timestamp(3)[])
  WITH ORDINALITY AS w(customer, feature, "from", "to", n)`;

/** `loadUsageTotal` of many bounded windows in one round trip; totals come back in the order of `windows`. */
export async function loadUsageTotals(
  db: Db,
  windows: readonly { customerId: string; feature: string; from: Date; to: Date }[],
): Promise<Prisma.Decimal[]> {
  if (windows.length === 0) return [];
  const rows = await db.$queryRawUnsafe<{ n: bigint; total: string }[]>(
    USAGE_TOTALS_SQL,
    windows.map((window) => window.customerId),
    windows.map((window) => window.feature),
    windows.map((window) => window.from.toISOString()),
    windows.map((window) => window.to.toISOString()),
  );
  const totals: Prisma.Decimal[] = new Array(windows.length);
  for (const row of rows) totals[Number(row.n) - 1] = new Prisma.Decimal(row.total);
  return totals;
}
