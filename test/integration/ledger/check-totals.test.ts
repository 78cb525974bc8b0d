import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkUsageRollups } from "../../../src/ledger/check-usage-rollups.js";
import { loadUsageTotal } from "../../../src/ledger/usage-totals.js";
import { createTestDb, type TestDb } from "../../support/db.js";

const exec = promisify(execFile);
const CLI = ["--import", "tsx", "src/cli/main.ts"];

let t: TestDb;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return exec(process.execPath, [...CLI, ...args], {
    env: { ...process.env, DATABASE_URL: t.url },
    timeout: 30_000,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

const WINDOW = { customerId: "cus_totals_a", feature: "tokens", from: null, to: null };

beforeAll(async () => {
  t = await createTestDb();
  await t.db.$executeRawUnsafe(
    `INSERT INTO customers (id, "externalId", "updatedAt") VALUES ('cus_totals_a', 'user_a', now()), ('cus_totals_b', NULL, now())`,
  );
  await t.db.$executeRawUnsafe(
    `INSERT INTO ledger_entries (id, "usageId", kind, "customerId", feature, quantity, "occurredAt", fingerprint)
     SELECT 'row_' || c || '_' || g, 'use_' || c || '_' || g, 'usage', c, 'tokens', g * 1.5,
       timestamp '2026-11-20 10:00' + g * interval '7 minutes 13 seconds', 'fp'
     FROM unnest(ARRAY['cus_totals_a', 'cus_totals_b']) c, generate_series(1, 40) g`,
  );
});

afterAll(async () => {
  await t?.drop();
});

describe("leakguard ledger check-totals", () => {
  it("finds rollups equal to the ledger after ordinary writes", async () => {
    const check = await checkUsageRollups(t.db);
    expect(check.drift).toEqual([]);
    // 40 rows per customer, each in its own minute, over 5 hours: 40 minute buckets and 5 hour buckets each.
    expect(check.buckets).toBe(2 * (40 + 5));
    const run = await cli(["ledger", "check-totals"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("90 buckets checked, 0 differ from the ledger");
  });

  it("reports rollups written around the triggers, exits 1, and --repair rebuilds them from the ledger", async () => {
    const truth = await loadUsageTotal(t.db, WINDOW);
    expect(truth.toFixed()).toBe("1230");
    // As a restore with triggers disabled would leave them: one bucket off, one missing, one that should not exist.
    await t.db.$executeRawUnsafe(
      `UPDATE usage_rollups SET quantity = quantity + 7 WHERE "customerId" = 'cus_totals_a' AND unit = 'hour'
         AND "startsAt" = '2026-11-20 11:00'`,
    );
    await t.db.$executeRawUnsafe(
      `DELETE FROM usage_rollups WHERE "customerId" = 'cus_totals_b' AND unit = 'minute' AND "startsAt" = '2026-11-20 10:07'`,
    );
    await t.db.$executeRawUnsafe(
      `INSERT INTO usage_rollups ("customerId", feature, unit, "startsAt", quantity)
       VALUES ('cus_totals_a', 'tokens', 'hour', '2026-11-21 00:00', 5)`,
    );
    expect((await loadUsageTotal(t.db, WINDOW)).toFixed()).toBe("1242");

    const found = await cli(["ledger", "check-totals"]);
    expect(found.code).toBe(1);
    expect(found.stdout).toContain("3 differ from the ledger");
    expect(found.stdout).toContain("cus_totals_a tokens hour 2026-11-20T11:00:00.000Z: rollup");
    expect(found.stdout).toContain(
      "cus_totals_b tokens minute 2026-11-20T10:07:00.000Z: rollup 0, ledger 1.5",
    );
    expect(found.stdout).toContain("cus_totals_a tokens hour 2026-11-21T00:00:00.000Z: rollup 5");
    expect(found.stderr).toContain(
      "usage rollups differ from the ledger (run with --repair to rebuild them)",
    );

    const onlyB = await cli(["ledger", "check-totals", "--customer", "cus_totals_b"]);
    expect(onlyB.code).toBe(1);
    expect(onlyB.stdout).toContain("1 differ from the ledger");

    const repaired = await cli(["ledger", "check-totals", "--repair"]);
    expect(repaired.code).toBe(0);
    expect(repaired.stdout).toContain("3 differ from the ledger, rebuilt from the ledger");
    expect((await loadUsageTotal(t.db, WINDOW)).toFixed()).toBe("1230");
    expect((await checkUsageRollups(t.db)).drift).toEqual([]);
  });

  it("names an unknown customer and changes nothing", async () => {
    const run = await cli(["ledger", "check-totals", "--customer", "cus_nobody", "--repair"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cus_nobody/);
  });
});
