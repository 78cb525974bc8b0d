/** A ledger row as loaded for reading; quantity is the exact decimal string. */
export type LedgerRow = {
  id: string;
  usageId: string;
  kind: "usage" | "credit_grant" | "credit_deduction" | "credit_expiry" | "adjustment";
  customerId: string;
  feature: string;
  quantity: string;
  occurredAt: Date;
  recordedAt: Date;
  reportedAt: Date | null;
  reportError: string | null;
};

function reportState(row: LedgerRow): string {
  if (row.reportedAt !== null) return `reported to Stripe at ${row.reportedAt.toISOString()}`;
  if (row.reportError !== null) return `Stripe refused the report (${row.reportError}), so it is not billed`;
  return "not yet reported to Stripe";
}

/** One sentence a person can read in an audit: what happened, when, and where it stands with Stripe. */
export function explainEntry(row: LedgerRow): string {
  const at = row.occurredAt.toISOString();
  const late =
    row.recordedAt.getTime() - row.occurredAt.getTime() > 60 * 60 * 1000
      ? ` (recorded later, at ${row.recordedAt.toISOString()})`
      : "";
  switch (row.kind) {
    case "usage":
      return `Used ${row.quantity} ${row.feature} at ${at}${late} under usage_id "${row.usageId}"; ${reportState(row)}.`;
    case "credit_grant":
      return `Granted ${row.quantity} ${row.feature} credits at ${at}${late} ("${row.usageId}").`;
    case "credit_deduction":
      return `Deducted ${row.quantity} ${row.feature} credits at ${at}${late} ("${row.usageId}").`;
    case "credit_expiry":
      return `${row.quantity} ${row.feature} credits expired at ${at} ("${row.usageId}").`;
    case "adjustment":
      return `Adjusted ${row.feature} by ${row.quantity} at ${at}${late} ("${row.usageId}").`;
  }
}
