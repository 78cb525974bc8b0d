import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CatalogError, loadCatalog, parseCatalog } from "../../../src/entitlements/catalog.js";
import { describeCatalog } from "../../../src/entitlements/describe-catalog.js";

const dir = mkdtempSync(join(tmpdir(), "leakguard-catalog-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeCatalog(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const valid = {
  features: {
    api_calls: { type: "metered", stripe_meter_event_name: "api_calls" },
    tokens: { type: "metered", stripe_meter_event_name: "llm_tokens", unit_cost: "0.0000020" },
    sso: { type: "boolean" },
    seats: { type: "static" },
  },
  plans: [
    {
      match: { price: "price_pro_monthly" },
      grants: { sso: true, seats: 3, api_calls: { limit: 100000, reset: "billing_period" } },
    },
    {
      match: { lookup_key: "team_per_seat" },
      grants: { seats: { value: 1, per_seat: true }, api_calls: { limit: "500.50", per_seat: true } },
    },
    {
      match: { product: "prod_enterprise" },
      grants: { sso: true, api_calls: { limit: null }, tokens: { limit: null } },
    },
  ],
  grace: { past_due_days: 7 },
};

describe("catalog", () => {
  it("loads the example catalog shipped with the repository", () => {
    const catalog = loadCatalog("catalog.example.json");
    expect(catalog.grace.pastDueDays).toBe(7);
    expect(catalog.features["tokens"]).toMatchObject({ type: "metered", stripeMeterEventName: "llm_tokens" });
    expect(catalog.plans.length).toBeGreaterThan(0);
    expect(catalog.warnings).toEqual([]);
  });

  it("normalizes features, matches and grants", () => {
    const catalog = parseCatalog(valid, "inline.json");
    expect(catalog.features["tokens"]).toEqual({
      key: "tokens",
      type: "metered",
      stripeMeterEventName: "llm_tokens",
      stripePrice: null,
      unitCost: "0.000002",
      description: null,
    });
    expect(catalog.plans.map((plan) => plan.match)).toEqual([
      { by: "price", value: "price_pro_monthly" },
      { by: "lookup_key", value: "team_per_seat" },
      { by: "product", value: "prod_enterprise" },
    ]);
    expect(catalog.plans[0]!.grants).toEqual([
      { feature: "sso", type: "boolean" },
      { feature: "seats", type: "static", value: "3", perSeat: false },
      { feature: "api_calls", type: "metered", limit: "100000", reset: "billing_period", perSeat: false },
    ]);
    expect(catalog.plans[1]!.grants).toEqual([
      { feature: "seats", type: "static", value: "1", perSeat: true },
      { feature: "api_calls", type: "metered", limit: "500.5", reset: "billing_period", perSeat: true },
    ]);
    expect(catalog.plans[2]!.grants[1]).toMatchObject({ feature: "api_calls", limit: null });
  });

  it("defaults to no past_due grace when the catalog names none", () => {
    const { grace: _grace, ...withoutGrace } = valid;
    expect(parseCatalog(withoutGrace, "inline.json").grace.pastDueDays).toBe(0);
  });

  it("treats a boolean grant of false as not granted", () => {
    const catalog = parseCatalog(
      { features: { sso: { type: "boolean" } }, plans: [{ match: { price: "p" }, grants: { sso: false } }] },
      "inline.json",
    );
    expect(catalog.plans[0]!.grants).toEqual([]);
  });

  it.each([
    [
      "a plan naming an undefined feature",
      { ...valid, plans: [{ match: { price: "p" }, grants: { storage: { limit: 5 } } }] },
      'plans[0].grants.storage: feature "storage" is not defined under "features"',
    ],
    [
      "a metered grant without a limit",
      { ...valid, plans: [{ match: { price: "p" }, grants: { api_calls: { reset: "never" } } }] },
      "plans[0].grants.api_calls.limit:",
    ],
    [
      "a negative limit",
      { ...valid, plans: [{ match: { price: "p" }, grants: { api_calls: { limit: -1 } } }] },
      "plans[0].grants.api_calls.limit:",
    ],
    [
      "a boolean feature granted a number",
      { ...valid, plans: [{ match: { price: "p" }, grants: { sso: 5 } }] },
      "plans[0].grants.sso: a boolean feature is granted with true (or false)",
    ],
    [
      "a match naming two keys",
      { ...valid, plans: [{ match: { price: "p", product: "prod" }, grants: {} }] },
      "plans[0].match: must name exactly one of price, product or lookup_key",
    ],
    ["an unknown feature type", { ...valid, features: { x: { type: "credits" } } }, "features.x.type:"],
    [
      "a unit cost that is not a decimal string",
      { ...valid, features: { t: { type: "metered", stripe_meter_event_name: "t", unit_cost: 0.1 } } },
      "features.t.unit_cost:",
    ],
    [
      "two features billed by one meter",
      {
        ...valid,
        features: {
          a: { type: "metered", stripe_meter_event_name: "m" },
          b: { type: "metered", stripe_meter_event_name: "m" },
        },
        plans: [],
      },
      'features.b.stripe_meter_event_name: "m" is already the meter of feature "a"',
    ],
    ["negative grace", { ...valid, grace: { past_due_days: -1 } }, "grace.past_due_days:"],
    ["an unknown top-level key", { ...valid, plan: [] }, "(top level):"],
  ])("rejects %s, naming the file and the place", (_name, document, expected) => {
    const path = writeCatalog(`bad-${Math.random().toString(36).slice(2)}.json`, JSON.stringify(document));
    const load = () => loadCatalog(path);
    expect(load).toThrow(CatalogError);
    expect(load).toThrow(`invalid catalog ${path}: ${expected}`);
  });

  it("rejects a file that is not JSON, naming the path", () => {
    const path = writeCatalog("broken.json", '{ "features": {');
    expect(() => loadCatalog(path)).toThrow(new RegExp(`^invalid catalog ${path}: not valid JSON`));
  });

  it("rejects a missing file, naming the path", () => {
    const path = join(dir, "missing.json");
    expect(() => loadCatalog(path)).toThrow(`invalid catalog ${path}: cannot read the file (no such file)`);
  });

  it("is frozen, so no caller can change what a plan grants", () => {
    const catalog = parseCatalog(valid, "inline.json");
    expect(Object.isFrozen(catalog.plans[0]!.grants)).toBe(true);
    expect(Object.isFrozen(catalog.features["sso"])).toBe(true);
  });

  it("describes what each plan grants", () => {
    const lines = describeCatalog(parseCatalog(valid, "inline.json"));
    expect(lines[0]).toBe("4 features, 3 plans, past_due grace 7 days");
    expect(lines).toContain("plan 1, matches price price_pro_monthly:");
    expect(lines).toContain("  api_calls: 100000 per billing period");
    expect(lines).toContain("  api_calls: 500.5 per billing period per seat (times the item quantity)");
    expect(lines).toContain("plan 3, matches product prod_enterprise:");
    expect(lines).toContain("  tokens: unlimited");
  });
});
