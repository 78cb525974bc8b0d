import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { databaseUrlFor } from "../../src/db/databases.js";
import { MIGRATIONS_DIR } from "../../src/db/migrate.js";

/** Where the tests find PostgreSQL and Redis; the same defaults as .env.example. */
export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export function databaseUrl(name: string): string {
  return databaseUrlFor(TEST_PG_URL, name);
}

/** Template name tied to the migrations' content, so parallel runs share it and a schema change makes a new one. */
function templateName(): string {
  const hash = createHash("sha256");
  for (const name of readdirSync(MIGRATIONS_DIR).sort()) {
    if (!name.includes("_") || name.endsWith(".toml")) continue;
    hash.update(name);
    hash.update(readFileSync(join(MIGRATIONS_DIR, name, "migration.sql")));
  }
  return `leakguard_tpl_${hash.digest("hex").slice(0, 12)}`;
}

export const TEMPLATE_DB = templateName();

export const TEST_API_KEY = "lg_test_key_0123456789";

/** The secrets configuration requires, with values that are only ever used by tests. */
export const TEST_SECRETS = {
  STRIPE_SECRET_KEY: "sk_test_leakguard_tests",
  STRIPE_WEBHOOK_SECRET: "whsec_leakguard_tests",
  LEAKGUARD_API_KEYS: TEST_API_KEY,
} as const;
