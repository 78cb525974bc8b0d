import { spawn, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import type { Prisma } from "../../../src/db/client.js";
import { buildReport } from "../../../src/report/report.js";
import { createTestDb } from "../../support/db.js";
import { TEST_PG_URL } from "../../support/env.js";
import { createTestQueuePrefix } from "../../support/queue.js";

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

  it.each([
    ["--from", "2026-02-30", "is not a day that exists"],
    ["--from", "2026-13-01", "is not a day that exists"],
    ["--to", "2026-11-01T10:00:00", "is not a date with a time zone"],
  ])(
    "refuses ledger explain %s %s: a day that does not exist or a time without its zone",
    (option, value, reason) => {
      const result = leakguard("ledger", "explain", "cus_nobody", option, value);
      expect(result.status).toBe(1);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain(`${option} "${value}" ${reason}`);
    },
  );

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

describe("npx leakguard", () => {
  // npx runs the command as npm exec -> sh -c -> node; npm hands SIGTERM to sh only, which dies without passing it on.
  it("stops serve when the npx process it runs under is sent SIGTERM", async () => {
    const queue = createTestQueuePrefix();
    const npx = spawn("npx", ["--yes", "leakguard", "serve"], {
      env: {
        ...process.env,
        DATABASE_URL: TEST_PG_URL,
        REDIS_URL: queue.redisUrl,
        LEAKGUARD_QUEUE_PREFIX: queue.prefix,
        PORT: "0",
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let pid: number | undefined;
    try {
      pid = await new Promise<number>((resolve, reject) => {
        let output = "";
        npx.stdout.on("data", (chunk: Buffer) => {
          output += chunk.toString("utf8");
          const started = output.split("\n").find((line) => line.includes('"serve started"'));
          if (started !== undefined) resolve((JSON.parse(started) as { pid: number }).pid);
        });
        npx.once("exit", (code) => reject(new Error(`npx exited with ${code} before serve started`)));
      });
      expect(pid).not.toBe(npx.pid);
      npx.kill("SIGTERM");
      const deadline = Date.now() + 10_000;
      while (isRunning(pid) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(isRunning(pid)).toBe(false);
    } finally {
      if (pid !== undefined && isRunning(pid)) process.kill(pid, "SIGKILL");
      npx.kill("SIGKILL");
      await queue.cleanup();
    }
  }, 60_000);
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
