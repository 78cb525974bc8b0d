import { randomBytes } from "node:crypto";
import pg from "pg";
import { createDb, type Db } from "../../src/db/client.js";
import { databaseUrl, TEMPLATE_DB, TEST_PG_URL } from "./env.js";

export type TestDb = { url: string; name: string; db: Db; drop: () => Promise<void> };

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, migrated database of this test's own, cloned from the template; drop() removes it. */
export async function createTestDb(): Promise<TestDb> {
  const name = `leakguard_test_${randomBytes(6).toString("hex")}`;
  // CREATE DATABASE ... TEMPLATE fails while another session is connected to the template; retry briefly.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin((client) => client.query(`CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE_DB}"`));
      break;
    } catch (error) {
      if (attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
    }
  }
  const url = databaseUrl(name);
  const db = createDb(url, { poolSize: 5 });
  return {
    url,
    name,
    db,
    drop: async () => {
      await db.$disconnect();
      await admin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}
