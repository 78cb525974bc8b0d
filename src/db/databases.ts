import pg from "pg";

/** The URL of `databaseName` on the same server as `databaseUrl`. */
export function databaseUrlFor(databaseUrl: string, databaseName: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${databaseName}`;
  return url.toString();
}

/** Drops a database on the server of `databaseUrl` (connecting to its `postgres` database to do so). */
export async function dropDatabase(databaseUrl: string, databaseName: string): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrlFor(databaseUrl, "postgres") });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${databaseName.replaceAll('"', '""')}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
