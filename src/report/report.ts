import { type FindingCategory, isoTime } from "../reconcile/findings.js";
import { Dec, toDec, toMinorString } from "../reconcile/money.js";

/** A report as JSON: the contract of `reconcile --json` and `/v1/reports/...` (DESIGN.md). */
export type ReportFinding = {
  id: string;
  fingerprint: string;
  category: string;
  customer: string;
  feature: string | null;
  expected: string | null;
  actual: string | null;
  amount_minor: string;
  currency: string;
  evidence: Record<string, unknown>;
  status: string;
};

export type CategoryTotal = { count: number; amount_minor: string };

/**
 * Totals of one currency. `leakage_minor` sums positive amounts (revenue not captured), `overbilled_minor` the
 * negative ones as a positive number; a category's `amount_minor` is the signed sum of its findings.
 */
export type ReportTotals = {
  currency: string;
  leakage_minor: string;
  overbilled_minor: string;
  findings: number;
  by_category: Partial<Record<FindingCategory, CategoryTotal>> & Record<string, CategoryTotal>;
};

/** Stripe events of the period: how they arrived (duplicates, backfilled) and what became of them. */
export type WebhookStats = {
  events: number;
  deliveries: number;
  duplicate_deliveries: number;
  recovered_by_backfill: number;
  processed: number;
  ignored: number;
  failed: number;
  pending: number;
};

export type Report = {
  id: string;
  period: { from: string; to: string };
  generated_at: string;
  /** One object when the findings share a currency (or there are none), one per currency otherwise. */
  totals: ReportTotals | ReportTotals[];
  findings: ReportFinding[];
  /** Absent in reports stored before it existed. */
  webhooks?: WebhookStats;
};

/** A finding as stored (`findings` row), the input of a report. */
export type StoredFinding = {
  id: string;
  fingerprint: string;
  category: string;
  customerId: string;
  feature: string | null;
  expected: string | null;
  actual: string | null;
  amountMinor: { toString(): string };
  currency: string;
  evidence: unknown;
  status: string;
};

export type ReportInput = {
  runId: string;
  periodFrom: Date;
  periodTo: Date;
  generatedAt: Date;
  findings: readonly StoredFinding[];
  /** Currency of the totals when there is no finding to take one from. */
  defaultCurrency: string;
  webhooks?: WebhookStats;
};

/** Builds a run's report (pure): findings ordered by money impact, biggest leak first, then by fingerprint. */
export function buildReport(input: ReportInput): Report {
  const findings = input.findings.map(toReportFinding).sort(byImpact);
  const currencies = [...new Set(findings.map((finding) => finding.currency))].sort();
  const totals =
    currencies.length <= 1
      ? totalsOf(currencies[0] ?? input.defaultCurrency, findings)
      : currencies.map((currency) => totalsOf(currency, findings));
  return {
    id: input.runId,
    period: { from: isoTime(input.periodFrom), to: isoTime(input.periodTo) },
    generated_at: isoTime(input.generatedAt),
    totals,
    findings,
    ...(input.webhooks ? { webhooks: input.webhooks } : {}),
  };
}

/**
 * A stored report in the contract's key order (PostgreSQL's jsonb keeps keys in its own order, and readers of
 * the JSON deserve the documented one).
 */
export function inContractOrder(report: Report): Report {
  const totals = (t: ReportTotals): ReportTotals => ({
    currency: t.currency,
    leakage_minor: t.leakage_minor,
    overbilled_minor: t.overbilled_minor,
    findings: t.findings,
    by_category: Object.fromEntries(
      Object.entries(t.by_category)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([category, total]) => [category, { count: total.count, amount_minor: total.amount_minor }]),
    ),
  });
  return {
    id: report.id,
    period: { from: report.period.from, to: report.period.to },
    generated_at: report.generated_at,
    totals: Array.isArray(report.totals) ? report.totals.map(totals) : totals(report.totals),
    findings: report.findings.map((f) => ({
      id: f.id,
      fingerprint: f.fingerprint,
      category: f.category,
      customer: f.customer,
      feature: f.feature,
      expected: f.expected,
      actual: f.actual,
      amount_minor: f.amount_minor,
      currency: f.currency,
      evidence: f.evidence,
      status: f.status,
    })),
    ...(report.webhooks ? { webhooks: report.webhooks } : {}),
  };
}

/** Totals as a list whatever their number, for renderers. */
export function totalsList(report: Report): ReportTotals[] {
  return Array.isArray(report.totals) ? report.totals : [report.totals];
}

function toReportFinding(finding: StoredFinding): ReportFinding {
  return {
    id: finding.id,
    fingerprint: finding.fingerprint,
    category: finding.category,
    customer: finding.customerId,
    feature: finding.feature,
    expected: finding.expected,
    actual: finding.actual,
    amount_minor: toMinorString(toDec(finding.amountMinor)),
    currency: finding.currency,
    evidence: (finding.evidence ?? {}) as Record<string, unknown>,
    status: finding.status,
  };
}

function byImpact(a: ReportFinding, b: ReportFinding): number {
  return toDec(b.amount_minor).cmp(toDec(a.amount_minor)) || a.fingerprint.localeCompare(b.fingerprint);
}

function totalsOf(currency: string, all: readonly ReportFinding[]): ReportTotals {
  const findings = all.filter((finding) => finding.currency === currency);
  let leakage = new Dec(0);
  let overbilled = new Dec(0);
  const byCategory = new Map<string, { count: number; amount: Dec }>();
  for (const finding of findings) {
    const amount = toDec(finding.amount_minor);
    if (amount.gt(0)) leakage = leakage.add(amount);
    else overbilled = overbilled.add(amount.neg());
    const category = byCategory.get(finding.category) ?? { count: 0, amount: new Dec(0) };
    byCategory.set(finding.category, { count: category.count + 1, amount: category.amount.add(amount) });
  }
  return {
    currency,
    leakage_minor: toMinorString(leakage),
    overbilled_minor: toMinorString(overbilled),
    findings: findings.length,
    by_category: Object.fromEntries(
      [...byCategory.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([category, total]) => [
          category,
          { count: total.count, amount_minor: toMinorString(total.amount) },
        ]),
    ),
  };
}
