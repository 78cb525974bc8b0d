import { describe, expect, it } from "vitest";
import { renderReport } from "../../../src/report/render-report.js";
import { buildReport, inContractOrder, type StoredFinding } from "../../../src/report/report.js";

function aFinding(overrides: Partial<StoredFinding> = {}): StoredFinding {
  return {
    id: "f_1",
    fingerprint: "a".repeat(64),
    category: "billing_mismatch",
    customerId: "cus_a",
    feature: "tokens",
    expected: "24104515",
    actual: "20000000",
    amountMinor: "1563.820215",
    currency: "usd",
    evidence: {
      invoice: "in_1",
      line: "il_1",
      period: { from: "2026-11-01T00:00:00Z", to: "2026-12-01T00:00:00Z" },
    },
    status: "open",
    ...overrides,
  };
}

const period = {
  runId: "run_1",
  periodFrom: new Date("2026-11-01T00:00:00Z"),
  periodTo: new Date("2026-12-01T00:00:00Z"),
  generatedAt: new Date("2026-12-02T03:00:01.250Z"),
  defaultCurrency: "usd",
};

describe("buildReport", () => {
  it("has the contract's shape, one totals object for one currency, biggest leak first", () => {
    const report = buildReport({
      ...period,
      findings: [
        aFinding({
          id: "f_over",
          fingerprint: "b".repeat(64),
          amountMinor: "-400",
          expected: "1000",
          actual: "1200",
        }),
        aFinding(),
        aFinding({
          id: "f_access",
          fingerprint: "c".repeat(64),
          category: "access_not_revoked",
          amountMinor: "381",
          expected: "revoked",
          actual: "active",
        }),
      ],
    });
    expect(report).toMatchObject({
      id: "run_1",
      period: { from: "2026-11-01T00:00:00Z", to: "2026-12-01T00:00:00Z" },
      generated_at: "2026-12-02T03:00:01.250Z",
      totals: {
        currency: "usd",
        leakage_minor: "1944.820215",
        overbilled_minor: "400",
        findings: 3,
        by_category: {
          access_not_revoked: { count: 1, amount_minor: "381" },
          billing_mismatch: { count: 2, amount_minor: "1163.820215" },
        },
      },
    });
    expect(report.findings.map((finding) => finding.id)).toEqual(["f_1", "f_access", "f_over"]);
    expect(report.findings[0]).toEqual({
      id: "f_1",
      fingerprint: "a".repeat(64),
      category: "billing_mismatch",
      customer: "cus_a",
      feature: "tokens",
      expected: "24104515",
      actual: "20000000",
      amount_minor: "1563.820215",
      currency: "usd",
      evidence: aFinding().evidence,
      status: "open",
    });
  });

  it("totals per currency when findings have several, and zero totals in the default currency when none", () => {
    const multi = buildReport({
      ...period,
      findings: [
        aFinding(),
        aFinding({ id: "f_jpy", fingerprint: "d".repeat(64), currency: "jpy", amountMinor: "300" }),
      ],
    });
    expect(
      Array.isArray(multi.totals) && multi.totals.map((totals) => [totals.currency, totals.leakage_minor]),
    ).toEqual([
      ["jpy", "300"],
      ["usd", "1563.820215"],
    ]);
    const empty = buildReport({ ...period, findings: [] });
    expect(empty.totals).toEqual({
      currency: "usd",
      leakage_minor: "0",
      overbilled_minor: "0",
      findings: 0,
      by_category: {},
    });
  });

  it("restores the contract's key order of a report read back from the database", () => {
    const report = buildReport({ ...period, findings: [aFinding()] });
    const shuffled = JSON.parse(JSON.stringify(report), (_key, value) =>
      value && typeof value === "object" && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value).reverse())
        : value,
    );
    const ordered = inContractOrder(shuffled);
    expect(ordered).toEqual(report);
    expect(Object.keys(ordered)).toEqual(["id", "period", "generated_at", "totals", "findings"]);
    expect(Object.keys(ordered.totals)).toEqual(Object.keys(report.totals));
    expect(Object.keys(ordered.findings[0]!)).toEqual(Object.keys(report.findings[0]!));
  });
});

describe("renderReport", () => {
  const hostile = aFinding({
    id: "f_hostile",
    fingerprint: "e".repeat(64),
    customerId: '=HYPERLINK("x")|<script>',
    feature: 'a,"b"',
  });
  const report = buildReport({
    ...period,
    findings: [
      aFinding(),
      aFinding({ id: "f_over", fingerprint: "b".repeat(64), amountMinor: "-400" }),
      hostile,
    ],
  });

  it("json is the report itself", () => {
    expect(JSON.parse(renderReport(report, "json"))).toEqual(report);
  });

  it("csv has one quoted, formula-safe row per finding, negative amounts left as numbers", () => {
    const [header, ...rows] = renderReport(report, "csv").trimEnd().split("\r\n");
    expect(header).toBe(
      "id,fingerprint,category,customer,feature,expected,actual,amount_minor,currency,status,invoice,line,subscription,period_from,period_to,evidence",
    );
    expect(rows).toHaveLength(3);
    expect(
      rows[0]!.startsWith(
        `f_1,${"a".repeat(64)},billing_mismatch,cus_a,tokens,24104515,20000000,1563.820215,usd,open,in_1,il_1,,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,`,
      ),
    ).toBe(true);
    expect(rows.find((row) => row.startsWith("f_hostile"))).toContain(
      `"'=HYPERLINK(""x"")|<script>","a,""b"""`,
    );
    expect(rows.find((row) => row.startsWith("f_over"))).toContain(",-400,usd,");
  });

  it("md summarizes in major units and escapes table pipes", () => {
    const md = renderReport(report, "md");
    expect(md).toContain("| USD | 31.2764043 USD | 4.00 USD | 3 |");
    expect(md).toContain("| billing_mismatch | USD | 3 | 27.2764043 USD |");
    expect(md).toContain('=HYPERLINK("x")\\|<script>');
    expect(md).toContain("invoice in_1, line il_1, period 2026-11-01T00:00:00Z to 2026-12-01T00:00:00Z");
  });

  it("html is one self-contained page with everything escaped", () => {
    const html = renderReport(report, "html");
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).not.toMatch(/<script>|<link|src=/);
    expect(html).toContain("&lt;script&gt;");
    expect(html).toContain('<td class="num">15.63820215 USD</td>');
  });

  it("says so when there is nothing to report", () => {
    const empty = buildReport({ ...period, findings: [] });
    expect(renderReport(empty, "md")).toContain("No leakage found.");
    expect(renderReport(empty, "html")).toContain("<p>None.</p>");
    expect(renderReport(empty, "csv").split("\r\n").filter(Boolean)).toHaveLength(1);
  });
});

describe("md findings", () => {
  it("show each finding's status and why access outlived payment", () => {
    const fixed = buildReport({
      runId: "run_fixed",
      periodFrom: new Date("2026-11-01T00:00:00Z"),
      periodTo: new Date("2026-12-01T00:00:00Z"),
      generatedAt: new Date("2026-12-01T03:00:00Z"),
      defaultCurrency: "usd",
      findings: [
        {
          id: "f1",
          fingerprint: "fp1",
          category: "access_not_revoked",
          customerId: "cus_1",
          feature: "tokens",
          expected: "revoked",
          actual: "active",
          amountMinor: "250",
          currency: "usd",
          evidence: {
            subscription: "sub_1",
            why: "subscription sub_1 is canceled in Stripe since 2026-11-20",
          },
          status: "fixed",
        },
      ],
    });
    const md = renderReport(fixed, "md");
    expect(md).toContain("| Amount | Status | Evidence |");
    expect(md).toContain(
      "| 2.50 USD | fixed | subscription sub_1, subscription sub_1 is canceled in Stripe since 2026-11-20 |",
    );
  });
});
