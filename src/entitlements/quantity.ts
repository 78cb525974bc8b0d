import { Decimal } from "decimal.js";

/** Exact decimal arithmetic for limits and usage (never JS floats); plain notation, never exponents. */
export const Quantity = Decimal.clone({ precision: 60, toExpNeg: -100, toExpPos: 100 });
export type Quantity = Decimal;

const DECIMAL_STRING = /^\d+(\.\d+)?$/;

export function isDecimalString(value: string): boolean {
  return DECIMAL_STRING.test(value);
}

/** "100000.000" -> "100000": one spelling per value, so stored and decided limits compare as strings. */
export function normalizeDecimal(value: string | { toString(): string }): string {
  return new Quantity(value.toString()).toFixed();
}
