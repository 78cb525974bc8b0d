import { Decimal } from "decimal.js";

/**
 * Decimal arithmetic for money: 12-decimal quantities times 12-decimal unit amounts stay exact well inside
 * 80 significant digits; ties round half-up (away from zero), as Stripe rounds line amounts.
 */
export const Dec = Decimal.clone({
  precision: 80,
  rounding: Decimal.ROUND_HALF_UP,
  toExpNeg: -100,
  toExpPos: 100,
});
export type Dec = Decimal;

/** Anything that prints as a decimal: strings, numbers of integer minor units, bigint, Prisma.Decimal. */
export type DecimalLike = string | number | bigint | { toString(): string };

export function toDec(value: DecimalLike): Dec {
  return new Dec(typeof value === "string" || typeof value === "number" ? value : value.toString());
}

/** Minor units as a plain decimal string, no exponent, no trailing zeros ("9183.80" -> "9183.8"). */
export function toMinorString(value: Dec): string {
  return value.isZero() ? "0" : value.toFixed();
}

// Stripe's zero-decimal currencies: one minor unit is one major unit (¥1, not ¥0.01).
const ZERO_DECIMAL = new Set([
  "bif",
  "clp",
  "djf",
  "gnf",
  "jpy",
  "kmf",
  "krw",
  "mga",
  "pyg",
  "rwf",
  "ugx",
  "vnd",
  "vuv",
  "xaf",
  "xof",
  "xpf",
]);
const THREE_DECIMAL = new Set(["bhd", "jod", "kwd", "omr", "tnd"]);

/** How many digits the minor unit has after the major unit's decimal point. */
export function currencyExponent(currency: string): 0 | 2 | 3 {
  const code = currency.toLowerCase();
  if (ZERO_DECIMAL.has(code)) return 0;
  if (THREE_DECIMAL.has(code)) return 3;
  return 2;
}

/** A minor-unit amount in major units for people: ("918380", "usd") -> "9183.80 USD", ("9184", "jpy") -> "9184 JPY". */
export function formatMinor(amountMinor: DecimalLike, currency: string): string {
  const exponent = currencyExponent(currency);
  const major = toDec(amountMinor).div(new Dec(10).pow(exponent));
  const places = Math.max(exponent, major.decimalPlaces());
  return `${major.toFixed(places)} ${currency.toUpperCase()}`;
}
