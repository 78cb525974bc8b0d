import pg from "pg";
import { applyMigrations } from "../../src/db/migrate.js";
import { databaseUrl, TEMPLATE_DB, TEST_PG_URL } from "./env.js";

/** Builds one migrated template database; each test file clones it (CREATE DATABASE ... TEMPLATE). */
export default async function setup(): Promise<void> {
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${TEMPLATE_DB}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${TEMPLATE_DB}"`);
  } finally {
    await admin.end();
  }
  await applyMigrations(databaseUrl(TEMPLATE_DB));
}
