import pg from "pg";
import { applyMigrations } from "../../src/db/migrate.js";
import { databaseUrl, TEMPLATE_DB, TEST_PG_URL } from "./env.js";

/** Builds one migrated template database; each test file clones it (CREATE DATABASE ... TEMPLATE). */
export default async function setup(): Promise<void> {
  const name = TEMPLATE_DB;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  try {
    // One builder at a time across parallel test runs on this machine.
    await admin.query("SELECT pg_advisory_lock(4242001)");
    const ready = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (ready.rowCount === 0) {
      const building = `${name}_building`;
      await admin.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
      await admin.query(`CREATE DATABASE "${building}"`);
      await applyMigrations(databaseUrl(building));
      await admin.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
    }
    await admin.query("SELECT pg_advisory_unlock(4242001)");
  } finally {
    await admin.end();
  }
}
