import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { dropDatabase } from "../../../src/db/databases.js";
import { runDemo } from "../../../src/demo/run-demo.js";
import { TEST_PG_URL, TEST_REDIS_URL } from "../../support/env.js";

const databaseName = `leakguard_demo_test_${randomBytes(5).toString("hex")}`;

afterAll(async () => {
  await dropDatabase(TEST_PG_URL, databaseName);
});

describe("leakguard demo, end to end", () => {
  it("finds exactly the leakage the scenario injected, through serve and worker processes", async () => {
    let output = "";
    const outcome = await runDemo({
      databaseUrl: TEST_PG_URL,
      redisUrl: TEST_REDIS_URL,
      databaseName,
      seed: 20261203,
      customers: 16,
      write: (text) => {
        output += text;
      },
      dropDatabase: true,
    });

    expect(outcome.verdict.differences).toEqual([]);
    expect(outcome.ok).toBe(true);
    const expected = outcome.scenario.expected;
    expect(outcome.report.findings).toHaveLength(expected.findings.length);
    expect(new Set(outcome.report.findings.map((finding) => finding.category))).toEqual(
      new Set(["billing_mismatch", "access_not_revoked"]),
    );
    const verdictLine = output.split("\n").find((line) => line.startsWith("expected "))!;
    const match = /^expected (\d+) findings worth (.+), found (\d+) worth (.+)$/.exec(verdictLine);
    expect(match).not.toBeNull();
    expect(match![1]).toBe(String(expected.findings.length));
    expect(match![3]).toBe(match![1]);
    expect(match![4]).toBe(match![2]);
    for (const [currency, amount] of Object.entries(expected.totals)) {
      expect(match![2]).toContain(`(${amount} minor units)`);
      expect(currency).toMatch(/^(usd|eur)$/);
    }
    expect(output).toContain("[8/8] reconciling");
    expect(output).toContain("# Leakage report");
  }, 90_000);
});
