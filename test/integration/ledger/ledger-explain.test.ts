import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadLedgerExplanation } from "../../../src/ledger/explain-ledger.js";
import { renderLedgerExplanation } from "../../../src/ledger/render-explanation.js";
import { createTestDb, type TestDb } from "../../support/db.js";

const run = promisify(execFile);
let testDb: TestDb;

async function entry(usageId: string, feature: string, quantity: string, at: string, extra: object = {}) {
  await testDb.db.ledgerEntry.create({
    data: {
      usageId,
      customerId: "cus_dana",
      feature,
      quantity,
      occurredAt: new Date(at),
      fingerprint: "f".repeat(64),
      ...extra,
    },
  });
}

beforeAll(async () => {
  testDb = await createTestDb();
  await testDb.db.customer.create({ data: { id: "cus_dana", externalId: "user_dana" } });
  await entry("t1", "tokens", "1000.5", "2026-11-02T10:00:00Z", {
    reportedAt: new Date("2026-11-02T10:01:00Z"),
  });
  await entry("t2", "tokens", "0.000001", "2026-11-03T10:00:00Z");
  await entry("t3", "tokens", "200", "2026-11-04T10:00:00Z", {
    reportError: "resource_missing: no such meter",
  });
  await entry("t4", "tokens", "7", "2026-12-02T10:00:00Z");
  await entry("a1", "api_calls", "3", "2026-11-05T10:00:00Z", {
    reportedAt: new Date("2026-11-05T10:02:00Z"),
  });
});

afterAll(async () => {
  await testDb?.drop();
});

describe("ledger explain", () => {
  it("sums each feature exactly and splits reported, unreported and refused usage", async () => {
    const explanation = await loadLedgerExplanation(
      { db: testDb.db },
      { customer: "user_dana", from: new Date("2026-11-01T00:00:00Z"), to: new Date("2026-12-01T00:00:00Z") },
    );
    expect(explanation.customerId).toBe("cus_dana");
    expect(
      explanation.features.map(({ feature, entries, total, reported, unreported, refused }) => ({
        feature,
        entries,
        total,
        reported,
        unreported,
        refused,
      })),
    ).toEqual([
      { feature: "api_calls", entries: 1, total: "3", reported: 1, unreported: 0, refused: 0 },
      { feature: "tokens", entries: 3, total: "1200.500001", reported: 1, unreported: 1, refused: 1 },
    ]);
    expect(explanation.features[1]!.last.map((row) => row.usageId)).toEqual(["t3", "t2", "t1"]);
  });

  it("renders a readable table per feature", async () => {
    const explanation = await loadLedgerExplanation(
      { db: testDb.db },
      { customer: "cus_dana", feature: "tokens", lastEntries: 2 },
    );
    const text = renderLedgerExplanation(explanation);
    expect(text).toBe(
      [
        "Ledger of cus_dana",
        "",
        "feature  entries        total  reported  unreported  refused",
        "-------  -------  -----------  --------  ----------  -------",
        "tokens         4  1207.500001         1           2        1",
        "",
        "tokens: last 2 of 4",
        "occurred_at               usage_id  quantity  stripe",
        `------------------------  --------  --------  ${"-".repeat("refused: resource_missing: no such meter".length)}`,
        "2026-12-02T10:00:00.000Z  t4               7  unreported",
        "2026-11-04T10:00:00.000Z  t3             200  refused: resource_missing: no such meter",
        "",
      ].join("\n"),
    );
  });

  it("the CLI prints the tables, and exits 1 with one line for an unknown customer", async () => {
    const env = { ...process.env, DATABASE_URL: testDb.url, LOG_LEVEL: "silent" };
    const cli = ["--import", "tsx", "src/cli/main.ts", "ledger", "explain"];
    const [known, unknown] = await Promise.allSettled([
      run(process.execPath, [...cli, "user_dana", "--from", "2026-11-01", "--to", "2026-12-01"], { env }),
      run(process.execPath, [...cli, "user_nobody"], { env }),
    ]);
    expect(known.status).toBe("fulfilled");
    if (known.status === "fulfilled") {
      expect(known.value.stdout).toContain(
        "Ledger of cus_dana (product id user_dana) from 2026-11-01T00:00:00.000Z",
      );
      expect(known.value.stdout).toMatch(/tokens\s+3\s+1200\.500001\s+1\s+1\s+1/);
    }
    expect(unknown.status).toBe("rejected");
    if (unknown.status === "rejected") {
      const failure = unknown.reason as { code: number; stderr: string };
      expect(failure.code).toBe(1);
      expect(failure.stderr.trim().split("\n")).toEqual([
        'leakguard: no customer "user_nobody" (neither a Stripe customer id nor a known product id)',
      ]);
    }
  }, 30_000);
});
