import pg from "pg";

export type PgPool = pg.Pool;

/**
 * A plain pg pool for the two hot paths where Prisma's per-query overhead dominates (webhook intake, access
 * checks); everything else goes through Prisma.
 */
export function createPgPool(databaseUrl: string, options: { max: number; sessionOptions?: string }): PgPool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max,
    ...(options.sessionOptions ? { options: options.sessionOptions } : {}),
  });
  // An idle connection dropped by the server must not crash the process; the next query reconnects.
  pool.on("error", () => {});
  return pool;
}
