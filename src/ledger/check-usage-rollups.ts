import { type Db, Prisma } from "../db/client.js";

/** One rollup bucket whose stored total differs from its ledger rows. */
export type RollupDrift = {
  customerId: string;
  feature: string;
  unit: "hour" | "minute";
  startsAt: Date;
  /** The stored rollup ("0" when the bucket has no row). */
  rollup: string;
  /** The ledger's usage rows in the bucket, summed. */
  ledger: string;
};

export type RollupCheck = { buckets: number; drift: RollupDrift[]; repaired: boolean };

/**
 * Every bucket where usage_rollups and the ledger disagree (a bucket with no row counts as zero on either side).
 * The ledger is the truth; the triggers keep rollups equal to it in the writing transaction, so drift means
 * someone wrote around them (e.g. triggers disabled during a restore).
 */
const DRIFT_SQL = `
WITH ledger AS (
  SELECT l."customerId", l.feature, u.unit, date_trunc(u.unit, l."occurredAt") AS "startsAt", sum(l.quantity) AS total
  FROM ledger_entries l CROSS JOIN (VALUES ('hour'), ('minute')) AS u(unit)
  WHERE l.kind = 'usage' AND ($1::text IS NULL OR l."customerId" = $1)
  GROUP BY 1, 2, 3, 4
), rollups AS (
  SELECT r."customerId", r.feature, r.unit, r."startsAt", r.quantity AS total FROM usage_rollups r
  WHERE $1::text IS NULL OR r."customerId" = $1
)
SELECT coalesce(l."customerId", r."customerId") AS "customerId", coalesce(l.feature, r.feature) AS feature,
  coalesce(l.unit, r.unit) AS unit, coalesce(l."startsAt", r."startsAt") AS "startsAt",
  coalesce(r.total, 0)::text AS rollup, coalesce(l.total, 0)::text AS ledger, count(*) OVER () AS buckets
FROM ledger l FULL JOIN rollups r
  ON r."customerId" = l."customerId" AND r.feature = l.feature AND r.unit = l.unit AND r."startsAt" = l."startsAt"
ORDER BY 1, 2, 3, 4`;

type DriftRow = Omit<RollupDrift, "unit"> & { unit: string; buckets: bigint };

/**
 * Compares usage_rollups with the ledger (for one customer, or all). With `repair`, rewrites every bucket from the
 * ledger while inserts wait (SHARE lock on the ledger: reads go on), so no concurrent write is lost.
 */
export async function checkUsageRollups(
  db: Db,
  options: { customerId?: string; repair?: boolean } = {},
): Promise<RollupCheck> {
  const customer = options.customerId ?? null;
  const compare = async (tx: Pick<Db, "$queryRawUnsafe">) => {
    const rows = await tx.$queryRawUnsafe<DriftRow[]>(DRIFT_SQL, customer);
    const drift = rows
      .filter((row) => !new Prisma.Decimal(row.rollup).eq(row.ledger))
      .map(({ buckets: _buckets, ...row }) => ({ ...row, unit: row.unit as RollupDrift["unit"] }));
    return { buckets: rows.length === 0 ? 0 : Number(rows[0]!.buckets), drift };
  };
  if (!options.repair) return { ...(await compare(db)), repaired: false };
  return db.$transaction(
    async (tx) => {
      await tx.$executeRawUnsafe("LOCK TABLE ledger_entries IN SHARE MODE");
      const found = await compare(tx);
      if (found.drift.length === 0) return { ...found, repaired: false };
      await tx.$executeRawUnsafe(
        `DELETE FROM usage_rollups WHERE $1::text IS NULL OR "customerId" = $1`,
        customer,
      );
      await tx.$executeRawUnsafe(
        `INSERT INTO usage_rollups ("customerId", feature, unit, "startsAt", quantity)
         SELECT l."customerId", l.feature, u.unit, date_trunc(u.unit, l."occurredAt"), sum(l.quantity)
         FROM ledger_entries l CROSS JOIN (VALUES ('hour'), ('minute')) AS u(unit)
         WHERE l.kind = 'usage' AND ($1::text IS NULL OR l."customerId" = $1)
         GROUP BY 1, 2, 3, 4`,
        customer,
      );
      return { ...found, repaired: true };
    },
    { timeout: 10 * 60_000, maxWait: 60_000 },
  );
}
