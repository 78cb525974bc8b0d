import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { applyMigrations, MIGRATIONS_DIR } from "../../../src/db/migrate.js";
import { databaseUrl, TEST_PG_URL } from "../../support/env.js";

const created: string[] = [];

/** Migrations holding only what schema.prisma cannot express (functions, triggers, backfills). */
const DATABASE_SIDE_MIGRATIONS = ["20261203210100_usage_rollups_maintained"];

async function freshDatabase(): Promise<string> {
  const name = `leakguard_mig_${randomBytes(5).toString("hex")}`;
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  await client.query(`CREATE DATABASE "${name}"`);
  await client.end();
  created.push(name);
  return databaseUrl(name);
}

function schemaDump(url: string): string {
  const dump = execFileSync(
    "pg_dump",
    ["--schema-only", "--no-owner", "--no-privileges", "-T", "_prisma_migrations", url],
    {
      encoding: "utf8",
    },
  );
  return dump
    .split("\n")
    .filter(
      (line) => !line.startsWith("--") && !line.startsWith("\\restrict") && !line.startsWith("\\unrestrict"),
    )
    .join("\n")
    .trim();
}

afterAll(async () => {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  for (const name of created) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await client.end();
});

describe("migrations", () => {
  it("build the same schema as prisma/schema.prisma", async () => {
    const fromMigrations = await freshDatabase();
    await applyMigrations(fromMigrations);

    const fromSchema = await freshDatabase();
    const sql = execFileSync(
      "npx",
      [
        "prisma",
        "migrate",
        "diff",
        "--from-empty",
        "--to-schema-datamodel",
        "prisma/schema.prisma",
        "--script",
      ],
      {
        encoding: "utf8",
        env: { ...process.env, DATABASE_URL: fromSchema },
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    const client = new pg.Client({ connectionString: fromSchema });
    await client.connect();
    await client.query(sql);
    for (const name of DATABASE_SIDE_MIGRATIONS)
      await client.query(readFileSync(join(MIGRATIONS_DIR, name, "migration.sql"), "utf8"));
    await client.end();

    expect(schemaDump(fromMigrations)).toBe(schemaDump(fromSchema));
  }, 60_000);

  it("records each migration in _prisma_migrations and applies nothing twice", async () => {
    const url = await freshDatabase();
    const first = await applyMigrations(url);
    expect(first.applied.length).toBeGreaterThan(0);
    const second = await applyMigrations(url);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(first.applied);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const rows = await client.query(
      `SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    await client.end();
    expect(rows.rows.map((row) => row.migration_name)).toEqual(first.applied);
    for (const row of rows.rows) {
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.finished_at).not.toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
  });
});
