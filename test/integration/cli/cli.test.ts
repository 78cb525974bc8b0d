import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import type { Prisma } from "../../../src/db/client.js";
import { buildReport } from "../../../src/report/report.js";
import { createTestDb } from "../../support/db.js";

function leakguard(...args: string[]) {
  const result = spawnSync(process.execPath, ["bin/leakguard.js", ...args], { encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("leakguard CLI", () => {
  it("answers an unknown command with one line and exit 1", () => {
    const result = leakguard("bogus");
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual(["leakguard: unknown command 'bogus'"]);
  });

  it("refuses to let the demo drop a database that is not a demo database", () => {
    const result = leakguard("demo", "--database", "leakguard");
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain('--database "leakguard" must be a demo database');
  });
});

describe("read-only commands", () => {
  it("print a stored report with only DATABASE_URL set (no Stripe or API secrets needed)", async () => {
    const t = await createTestDb();
    try {
      const report = buildReport({
        runId: "00000000-0000-4000-8000-000000000001",
        periodFrom: new Date("2026-11-01T00:00:00Z"),
        periodTo: new Date("2026-12-01T00:00:00Z"),
        generatedAt: new Date("2026-12-01T03:00:00Z"),
        findings: [],
        defaultCurrency: "usd",
      });
      await t.db.reconciliationRun.create({
        data: {
          id: report.id,
          periodFrom: new Date(report.period.from),
          periodTo: new Date(report.period.to),
          status: "completed",
          trigger: "cli",
          finishedAt: new Date(),
          report: report as unknown as Prisma.InputJsonObject,
        },
      });
      const env = { PATH: process.env.PATH ?? "", DATABASE_URL: t.url };
      const result = spawnSync(
        process.execPath,
        ["bin/leakguard.js", "report", "latest", "--format", "json"],
        {
          encoding: "utf8",
          env,
        },
      );
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      expect((JSON.parse(result.stdout) as { id: string }).id).toBe(report.id);

      const explain = spawnSync(process.execPath, ["bin/leakguard.js", "ledger", "explain", "cus_nobody"], {
        encoding: "utf8",
        env,
      });
      expect(explain.status).toBe(1);
      expect(explain.stderr.trim().split("\n")).toHaveLength(1);
      expect(explain.stderr).not.toContain("STRIPE_SECRET_KEY");
    } finally {
      await t.drop();
    }
  });
});
