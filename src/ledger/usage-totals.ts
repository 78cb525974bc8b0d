import { type Db, Prisma } from "../db/client.js";

export type UsageWindow = { customerId: string; feature: string; from?: Date | null; to?: Date | null };

/**
 * SQL for the net usage of a customer's feature in [from, to), exact: the whole UTC hours inside the window from
 * usage_rollups (kept by triggers on the ledger, in the writing transaction), the window's partial first and last
 * hour from the ledger itself. So a check costs three index lookups however much usage the window holds.
 * Each argument is an SQL expression (the fragment's own aliases start with "u"); `from`/`to` may be NULL (unbounded).
 * Yields a numeric.
 */
export function usageTotalSql(customer: string, feature: string, from: string, to: string): string {
  const ledger = `FROM ledger_entries ul WHERE ul."customerId" = ${customer} AND ul.feature = ${feature} AND ul.kind = 'usage'`;
  return `(SELECT coalesce(sum(up.total), 0)
  FROM (SELECT coalesce((${from})::timestamp, '-infinity') AS s, coalesce((${to})::timestamp, 'infinity') AS e) uw
  -- [a, b): the whole hours inside [s, e) (empty when there are none).
  CROSS JOIN LATERAL (SELECT CASE WHEN date_trunc('hour', uw.s) = uw.s THEN uw.s
                                  ELSE date_trunc('hour', uw.s) + interval '1 hour' END AS a,
                             date_trunc('hour', uw.e) AS b) uh
  CROSS JOIN LATERAL (
    SELECT sum(ul.quantity) AS total ${ledger} AND ul."occurredAt" >= uw.s AND ul."occurredAt" < least(uh.a, uw.e)
    UNION ALL
    SELECT sum(ul.quantity) ${ledger} AND ul."occurredAt" >= greatest(uh.b, least(uh.a, uw.e)) AND ul."occurredAt" < uw.e
    UNION ALL
    SELECT sum(ur.quantity) FROM usage_rollups ur
    WHERE ur."customerId" = ${customer} AND ur.feature = ${feature} AND ur.hour >= uh.a AND ur.hour < uh.b
  ) up)`;
}

/**
 * Each window `n` (1-based) summed in one statement. Times travel as UTC ISO strings: a `timestamp` cast ignores
 * the zone, matching the ledger's UTC `timestamp` column whatever the session's zone.
 */
const USAGE_TOTALS_SQL = `
SELECT w.n, ${usageTotalSql("w.customer", "w.feature", 'w."from"', 'w."to"')}::text AS total
FROM unnest($1::text[], $2::text[], $3::timestamp(3)[], $4::timestamp(3)[])
  WITH ORDINALITY AS w(customer, feature, "from", "to", n)`;

/** Net usage of a feature in [from, to) (either end may be open), as an exact decimal. */
export async function loadUsageTotal(db: Db, window: UsageWindow): Promise<Prisma.Decimal> {
  return (await loadUsageTotals(db, [window]))[0]!;
}

/** `loadUsageTotal` of many windows in one round trip; totals come back in the order of `windows`. */
export async function loadUsageTotals(db: Db, windows: readonly UsageWindow[]): Promise<Prisma.Decimal[]> {
  if (windows.length === 0) return [];
  const rows = await db.$queryRawUnsafe<{ n: bigint; total: string }[]>(
    USAGE_TOTALS_SQL,
    windows.map((window) => window.customerId),
    windows.map((window) => window.feature),
    windows.map((window) => window.from?.toISOString() ?? null),
    windows.map((window) => window.to?.toISOString() ?? null),
  );
  const totals: Prisma.Decimal[] = new Array(windows.length);
  for (const row of rows) totals[Number(row.n) - 1] = new Prisma.Decimal(row.total);
  return totals;
}
