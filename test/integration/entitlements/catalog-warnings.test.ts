import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAppContext } from "../../../src/app-context.js";
import { createTestApp, type TestApp } from "../../support/app.js";

const SHADOWED = {
  features: {
    sso: { type: "boolean" },
    api_calls: { type: "metered", stripe_meter_event_name: "api_calls" },
  },
  plans: [
    { name: "Pro", match: { price: "price_pro" }, grants: { sso: true } },
    { match: { product: "prod_team" }, grants: { api_calls: { limit: 10 } } },
    { name: "Pro (annual promo)", match: { price: "price_pro" }, grants: { api_calls: { limit: null } } },
    { match: { product: "prod_team" }, grants: { sso: true } },
  ],
};
const WARNINGS = [
  'warning: plan "Pro (annual promo)" can never match: plan "Pro" already matches price price_pro (an item takes the first plan that matches)',
  "warning: plan 4 can never match: plan 2 already matches product prod_team (an item takes the first plan that matches)",
];

const dir = mkdtempSync(join(tmpdir(), "leakguard-catalog-warnings-"));
const path = join(dir, "catalog.json");
writeFileSync(path, JSON.stringify(SHADOWED));

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("two plans matching the same price, product or lookup key", () => {
  it("'catalog check' prints a warning naming both plans and still exits 0", () => {
    const result = spawnSync(process.execPath, ["bin/leakguard.js", "catalog", "check", path], {
      encoding: "utf8",
    });
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines[0]).toBe(`${path}: valid`);
    expect(lines.filter((line) => line.startsWith("warning: "))).toEqual(WARNINGS);
  });

  it("is logged as a warning when the catalog loads at start", async () => {
    const logged: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logged.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const ctx = createAppContext({ ...t.ctx.config, catalogPath: path }, pino({ level: "info" }, sink));
    await ctx.close();
    const warnings = logged.filter((line) => line["msg"] === "catalog warning");
    expect(warnings.map((line) => [line["level"], line["catalog"], `warning: ${line["warning"]}`])).toEqual(
      WARNINGS.map((warning) => [40, path, warning]),
    );
    expect(ctx.catalog.warnings).toHaveLength(2);
  });
});
