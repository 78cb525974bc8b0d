import { formatMinor } from "../reconcile/money.js";
import { describeEvidence } from "./render-markdown.js";
import { type Report, totalsList } from "./report.js";

/** A self-contained page (inline style, no scripts, no external assets) for a browser or an email. */
export function renderHtml(report: Report): string {
  const totals = totalsList(report);
  const summaryRows = totals
    .map(
      (t) =>
        `<tr><td>${esc(t.currency.toUpperCase())}</td><td class="num">${esc(formatMinor(t.leakage_minor, t.currency))}</td>` +
        `<td class="num">${esc(formatMinor(t.overbilled_minor, t.currency))}</td><td class="num">${t.findings}</td></tr>`,
    )
    .join("\n");
  const categoryRows = totals
    .flatMap((t) =>
      Object.entries(t.by_category).map(
        ([category, total]) =>
          `<tr><td>${esc(category)}</td><td>${esc(t.currency.toUpperCase())}</td><td class="num">${total.count}</td>` +
          `<td class="num">${esc(formatMinor(total.amount_minor, t.currency))}</td></tr>`,
      ),
    )
    .join("\n");
  const findingRows = report.findings
    .map(
      (f) =>
        `<tr><td>${esc(f.category)}</td><td>${esc(f.customer)}</td><td>${esc(f.feature ?? "")}</td>` +
        `<td class="num">${esc(f.expected ?? "")}</td><td class="num">${esc(f.actual ?? "")}</td>` +
        `<td class="num">${esc(formatMinor(f.amount_minor, f.currency))}</td><td>${esc(describeEvidence(f))}</td>` +
        `<td>${esc(f.status)}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Leakage report ${esc(report.id)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #1a1a1a; }
table { border-collapse: collapse; margin: 0 0 1.5rem; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
<h1>Leakage report</h1>
<p>Run ${esc(report.id)}: period ${esc(report.period.from)} to ${esc(report.period.to)}, generated ${esc(report.generated_at)}.</p>
<h2>Summary</h2>
<table>
<tr><th>Currency</th><th>Leakage</th><th>Over-billed</th><th>Findings</th></tr>
${summaryRows}
</table>
<h2>By category</h2>
${categoryRows === "" ? "<p>No leakage found.</p>" : `<table>\n<tr><th>Category</th><th>Currency</th><th>Findings</th><th>Amount</th></tr>\n${categoryRows}\n</table>`}
<h2>Findings</h2>
${findingRows === "" ? "<p>None.</p>" : `<table>\n<tr><th>Category</th><th>Customer</th><th>Feature</th><th>Expected</th><th>Actual</th><th>Amount</th><th>Evidence</th><th>Status</th></tr>\n${findingRows}\n</table>`}
</body>
</html>
`;
}

function esc(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}
