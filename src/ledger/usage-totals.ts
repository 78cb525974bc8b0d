import { type Db, Prisma } from "../db/client.js";

export type UsageWindow = { customerId: string; feature: string; from?: Date | null; to?: Date | null };

/** `t` rounded up to a whole `unit` (a date_trunc field), as SQL. */
const ceilTo = (unit: "minute" | "hour", t: string) =>
  `CASE WHEN date_trunc('${unit}', ${t}) = ${t} THEN ${t} ELSE date_trunc('${unit}', ${t}) + interval '1 ${unit}' END`;

/**
 * SQL for the net usage of a customer's feature in [from, to), exact, in five index range reads however much usage
 * the window holds: its whole UTC hours from usage_rollups, the whole minutes before the first and after the last
 * of those hours from usage_rollups, and the seconds before the first and after the last whole minute from the
 * ledger itself (rollups are kept by triggers on the ledger, in the writing transaction).
 * Each argument is an SQL expression (the fragment's own aliases start with "u"); `from`/`to` may be NULL
 * (unbounded). Yields a numeric.
 */
export function usageTotalSql(customer: string, feature: string, from: string, to: string): string {
  const ledger = (range: (column: string) => string) =>
    `SELECT sum(ul.quantity) AS total FROM ledger_entries ul
     WHERE ul."customerId" = ${customer} AND ul.feature = ${feature} AND ul.kind = 'usage' AND ${range('ul."occurredAt"')}`;
  const rollups = (unit: "minute" | "hour", range: (column: string) => string) =>
    `SELECT sum(ur.quantity) FROM usage_rollups ur
     WHERE ur."customerId" = ${customer} AND ur.feature = ${feature} AND ur.unit = '${unit}' AND ${range('ur."startsAt"')}`;
  const within = (low: string, high: string) => (column: string) =>
    `${column} >= ${low} AND ${column} < ${high}`;
  return `(SELECT coalesce(sum(up.total), 0)
  FROM (SELECT coalesce((${from})::timestamp, '-infinity') AS s, coalesce((${to})::timestamp, 'infinity') AS e OFFSET 0) uw
  -- [m1, m2): the whole minutes inside [s, e); [h1, h2): the whole hours inside those (each empty when start = end).
  -- OFFSET 0 computes each bound once per window: inlined, every index condition would repeat the whole expression
  -- of every bound before it (measured: 1.5x to 1.8x the access statement's Postgres CPU per check).
  CROSS JOIN LATERAL (SELECT least(${ceilTo("minute", "uw.s")}, uw.e) AS m1 OFFSET 0) um1
  CROSS JOIN LATERAL (SELECT greatest(date_trunc('minute', uw.e), um1.m1) AS m2 OFFSET 0) um2
  CROSS JOIN LATERAL (SELECT least(${ceilTo("hour", "um1.m1")}, um2.m2) AS h1 OFFSET 0) uh1
  CROSS JOIN LATERAL (SELECT greatest(date_trunc('hour', um2.m2), uh1.h1) AS h2 OFFSET 0) uh2
  CROSS JOIN LATERAL (
    ${ledger(within("uw.s", "um1.m1"))}
    UNION ALL ${rollups("minute", within("um1.m1", "uh1.h1"))}
    UNION ALL ${rollups("hour", within("uh1.h1", "uh2.h2"))}
    UNION ALL ${rollups("minute", within("uh2.h2", "um2.m2"))}
    UNION ALL ${ledger(within("um2.m2", "uw.e"))}
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
