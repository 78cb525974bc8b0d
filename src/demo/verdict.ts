import { Decimal } from "decimal.js";
import { currencyExponent, toMinorString } from "../reconcile/money.js";
import type { ExpectedFinding } from "./scenario.js";

/** A finding as the report lists it (the fields the demo compares). */
export type ReportedFinding = {
  category: string;
  customer: string;
  feature: string | null;
  amount_minor: string;
  currency: string;
};

export type Tally = { count: number; totals: Record<string, string> };

export type Verdict = { ok: boolean; line: string; differences: string[] };

const SYMBOLS: Record<string, string> = { usd: "$", eur: "€", gbp: "£", jpy: "¥" };

function sumByCurrency(items: { currency: string; amountMinor: string }[]): Record<string, string> {
  const totals = new Map<string, Decimal>();
  for (const item of items) {
    const currency = item.currency.toLowerCase();
    totals.set(currency, (totals.get(currency) ?? new Decimal(0)).plus(item.amountMinor));
  }
  // USD (Stripe's default) first, then the others alphabetically.
  const ordered = [...totals.entries()].sort(([a], [b]) =>
    a === "usd" ? -1 : b === "usd" ? 1 : a.localeCompare(b),
  );
  return Object.fromEntries(ordered.map(([currency, total]) => [currency, toMinorString(total)]));
}

function tallyExpected(findings: readonly ExpectedFinding[]): Tally {
  return { count: findings.length, totals: sumByCurrency([...findings]) };
}

function tallyReported(findings: readonly ReportedFinding[]): Tally {
  return {
    count: findings.length,
    totals: sumByCurrency(
      findings.map((finding) => ({ currency: finding.currency, amountMinor: finding.amount_minor })),
    ),
  };
}

/** "$1,234.56 (123456.2 minor units)": rounded for people, exact for checking. */
export function formatMoney(amountMinor: string, currency: string): string {
  const exponent = currencyExponent(currency);
  const major = new Decimal(amountMinor).div(new Decimal(10).pow(exponent));
  const [whole, fraction] = major.toFixed(exponent, Decimal.ROUND_HALF_UP).split(".") as [string, string?];
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const symbol = SYMBOLS[currency.toLowerCase()];
  const number = fraction === undefined ? grouped : `${grouped}.${fraction}`;
  const shown =
    symbol === undefined
      ? `${number} ${currency.toUpperCase()}`
      : `${symbol}${number}`.replace(`${symbol}-`, `-${symbol}`);
  return `${shown} (${amountMinor} minor units)`;
}

function formatTotals(totals: Record<string, string>): string {
  const entries = Object.entries(totals);
  if (entries.length === 0) return formatMoney("0", "usd");
  return entries.map(([currency, amount]) => formatMoney(amount, currency)).join(" + ");
}

const keyOf = (category: string, customer: string, feature: string | null) =>
  `${category} ${customer} ${feature ?? "-"}`;

/** Expected and reported agree when every finding matches by category, customer, feature, currency and amount. */
export function decideVerdict(
  expected: readonly ExpectedFinding[],
  reported: readonly ReportedFinding[],
): Verdict {
  const want = tallyExpected(expected);
  const got = tallyReported(reported);
  const differences: string[] = [];
  const remaining = new Map<string, ReportedFinding[]>();
  for (const finding of reported) {
    const key = keyOf(finding.category, finding.customer, finding.feature);
    remaining.set(key, [...(remaining.get(key) ?? []), finding]);
  }
  for (const finding of expected) {
    const key = keyOf(finding.category, finding.stripeCustomerId, finding.feature);
    const candidates = remaining.get(key) ?? [];
    const exact = candidates.findIndex(
      (candidate) =>
        candidate.currency.toLowerCase() === finding.currency &&
        new Decimal(candidate.amount_minor).eq(finding.amountMinor),
    );
    if (exact !== -1) {
      candidates.splice(exact, 1);
      continue;
    }
    const near = candidates.shift();
    differences.push(
      near === undefined
        ? `missing: ${key} worth ${formatMoney(finding.amountMinor, finding.currency)} (${finding.why})`
        : `amount differs: ${key} expected ${formatMoney(finding.amountMinor, finding.currency)}, found ${formatMoney(near.amount_minor, near.currency)}`,
    );
  }
  for (const [key, leftovers] of remaining) {
    for (const finding of leftovers)
      differences.push(`unexpected: ${key} worth ${formatMoney(finding.amount_minor, finding.currency)}`);
  }
  const ok = differences.length === 0 && want.count === got.count;
  return {
    ok,
    line: `expected ${want.count} findings worth ${formatTotals(want.totals)}, found ${got.count} worth ${formatTotals(got.totals)}`,
    differences,
  };
}
