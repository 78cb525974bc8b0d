import { formatMinor } from "../reconcile/money.js";
import { type Report, type ReportFinding, totalsList } from "./report.js";

/** A readable summary: totals per currency, then by category, then every finding with its evidence. */
export function renderMarkdown(report: Report): string {
  const out: string[] = [
    `# Leakage report ${report.id}`,
    "",
    `Period ${report.period.from} to ${report.period.to}, generated ${report.generated_at}.`,
    "",
    "## Summary",
    "",
    table(
      ["Currency", "Leakage", "Over-billed", "Findings"],
      totalsList(report).map((totals) => [
        totals.currency.toUpperCase(),
        formatMinor(totals.leakage_minor, totals.currency),
        formatMinor(totals.overbilled_minor, totals.currency),
        String(totals.findings),
      ]),
    ),
    "",
    "## By category",
    "",
  ];
  const categories = totalsList(report).flatMap((totals) =>
    Object.entries(totals.by_category).map(([category, total]) => [
      category,
      totals.currency.toUpperCase(),
      String(total.count),
      formatMinor(total.amount_minor, totals.currency),
    ]),
  );
  out.push(
    categories.length === 0
      ? "No leakage found."
      : table(["Category", "Currency", "Findings", "Amount"], categories),
  );
  if (report.webhooks) {
    const w = report.webhooks;
    out.push(
      "",
      "## Stripe events of the period",
      "",
      table(
        [
          "Events",
          "Deliveries",
          "Duplicates delivered",
          "Recovered by backfill",
          "Applied",
          "Ignored",
          "Failed",
          "Pending",
        ],
        [
          [
            w.events,
            w.deliveries,
            w.duplicate_deliveries,
            w.recovered_by_backfill,
            w.processed,
            w.ignored,
            w.failed,
            w.pending,
          ].map(String),
        ],
      ),
      "",
      "Each event is applied at most once however often it was delivered (stored once by its id).",
    );
  }
  out.push("", "## Findings", "");
  out.push(
    report.findings.length === 0
      ? "None."
      : table(
          ["Category", "Customer", "Feature", "Expected", "Actual", "Amount", "Status", "Evidence"],
          report.findings.map((finding) => [
            finding.category,
            finding.customer,
            finding.feature ?? "",
            finding.expected ?? "",
            finding.actual ?? "",
            formatMinor(finding.amount_minor, finding.currency),
            finding.status,
            describeEvidence(finding),
          ]),
        ),
  );
  return `${out.join("\n")}\n`;
}

/** The evidence ids a reader looks up in Stripe, in one line. */
export function describeEvidence(finding: ReportFinding): string {
  const evidence = finding.evidence;
  const parts: string[] = [];
  for (const key of ["invoice", "line", "subscription", "price"]) {
    const value = evidence[key];
    if (typeof value === "string") parts.push(`${key} ${value}`);
  }
  const period = evidence["period"] as { from?: unknown; to?: unknown } | null | undefined;
  if (period && typeof period.from === "string" && typeof period.to === "string") {
    parts.push(`period ${period.from} to ${period.to}`);
  }
  // Why access outlived payment, in the words of the check that found it.
  if (typeof evidence["why"] === "string") parts.push(evidence["why"]);
  return parts.join(", ");
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(escapeCell).join(" | ")} |`;
  return [line(header), `|${header.map(() => " --- ").join("|")}|`, ...rows.map(line)].join("\n");
}

function escapeCell(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("|", "\\|").replaceAll(/\r?\n/g, " ");
}
