import type { Report } from "./report.js";

const COLUMNS = [
  "id",
  "fingerprint",
  "category",
  "customer",
  "feature",
  "expected",
  "actual",
  "amount_minor",
  "currency",
  "status",
  "invoice",
  "line",
  "subscription",
  "period_from",
  "period_to",
  "evidence",
] as const;

/** One row per finding (RFC 4180), the evidence ids in their own columns and in full as JSON. */
export function renderCsv(report: Report): string {
  const rows = report.findings.map((finding) => {
    const evidence = finding.evidence;
    const period = (evidence["period"] ?? null) as { from?: unknown; to?: unknown } | null;
    const cells: Record<(typeof COLUMNS)[number], unknown> = {
      id: finding.id,
      fingerprint: finding.fingerprint,
      category: finding.category,
      customer: finding.customer,
      feature: finding.feature,
      expected: finding.expected,
      actual: finding.actual,
      amount_minor: finding.amount_minor,
      currency: finding.currency,
      status: finding.status,
      invoice: evidence["invoice"],
      line: evidence["line"],
      subscription: evidence["subscription"],
      period_from: period?.from,
      period_to: period?.to,
      evidence: JSON.stringify(evidence),
    };
    return COLUMNS.map((column) => csvCell(cells[column])).join(",");
  });
  return `${[COLUMNS.join(","), ...rows].join("\r\n")}\r\n`;
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text = String(value);
  // A spreadsheet would run a cell starting with = + @ (or - not followed by a digit) as a formula.
  if (/^[=+@\t\r]|^-(?![\d.])/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
