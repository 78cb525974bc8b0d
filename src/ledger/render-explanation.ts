import type { LedgerRow } from "./explain-entry.js";
import type { LedgerExplanation } from "./explain-ledger.js";

type Column = { title: string; align?: "left" | "right" };

/** A plain-text table: a header, a rule, and columns padded to their widest cell. */
export function renderTable(columns: Column[], rows: string[][]): string {
  const widths = columns.map((column, index) =>
    Math.max(column.title.length, ...rows.map((row) => (row[index] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, index) =>
        columns[index]!.align === "right" ? cell.padStart(widths[index]!) : cell.padEnd(widths[index]!),
      )
      .join("  ")
      .trimEnd();
  return [
    line(columns.map((column) => column.title)),
    line(widths.map((width) => "-".repeat(width))),
    ...rows.map(line),
  ].join("\n");
}

function state(row: LedgerRow): string {
  if (row.kind !== "usage") return row.kind;
  if (row.reportedAt !== null) return `reported ${row.reportedAt.toISOString()}`;
  if (row.reportError !== null) return `refused: ${row.reportError}`;
  return "unreported";
}

/** The `ledger explain` text: a summary table per feature, then each feature's newest entries. */
export function renderLedgerExplanation(explanation: LedgerExplanation): string {
  const who =
    explanation.customer === explanation.customerId
      ? explanation.customerId
      : `${explanation.customerId} (product id ${explanation.customer})`;
  const window =
    explanation.from || explanation.to
      ? ` from ${explanation.from?.toISOString() ?? "the start"} to ${explanation.to?.toISOString() ?? "now"}`
      : "";
  const heading = `Ledger of ${who}${window}`;
  if (explanation.features.length === 0) return `${heading}\n\nNo entries.\n`;

  const summary = renderTable(
    [
      { title: "feature" },
      { title: "entries", align: "right" },
      { title: "total", align: "right" },
      { title: "reported", align: "right" },
      { title: "unreported", align: "right" },
      { title: "refused", align: "right" },
    ],
    explanation.features.map((feature) => [
      feature.feature,
      String(feature.entries),
      feature.total,
      String(feature.reported),
      String(feature.unreported),
      String(feature.refused),
    ]),
  );
  const details = explanation.features.map((feature) => {
    const table = renderTable(
      [
        { title: "occurred_at" },
        { title: "usage_id" },
        { title: "quantity", align: "right" },
        { title: "stripe" },
      ],
      feature.last.map((row) => [row.occurredAt.toISOString(), row.usageId, row.quantity, state(row)]),
    );
    return `${feature.feature}: last ${feature.last.length} of ${feature.entries}\n${table}`;
  });
  return `${heading}\n\n${summary}\n\n${details.join("\n\n")}\n`;
}
