/**
 * Readers for Stripe JSON. An absent or null field reads as null and extra keys are ignored, so every API version
 * reads. Numbers are checked, not trusted: a count, amount, time or decimal that is present with a value Stripe
 * never sends (a negative quantity, a fractional count, a time before 2000) throws InvalidValue, and the payload
 * is refused naming that field, never read around it.
 */

export type JsonRecord = Record<string, unknown>;

/** A field present with a value Stripe never sends; `field` is its path in the payload. */
export class InvalidValue extends Error {
  override name = "InvalidValue";
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`${field} is ${show(value)}, expected ${expected}`);
  }

  /** The same problem, one object further out (`items.data[0]` + `quantity`). */
  within(path: string): InvalidValue {
    const joined = this.field.startsWith("[") ? `${path}${this.field}` : `${path}.${this.field}`;
    return new InvalidValue(joined, this.value, this.expected);
  }
}

function show(value: unknown): string {
  const text = typeof value === "number" ? String(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 60)}...` : text;
}

/** Reads a nested object: an invalid value inside it is reported with `path` in front of its field. */
export function inField<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw error instanceof InvalidValue ? error.within(path) : error;
  }
}

export function asRecord(value: unknown): JsonRecord | null {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as JsonRecord) : null;
}

export function readString(record: JsonRecord | null, key: string): string | null {
  const value = record?.[key];
  return typeof value === "string" && value.length > 0 ? value : null;
}

export function readBoolean(record: JsonRecord | null, key: string): boolean | null {
  const value = record?.[key];
  return typeof value === "boolean" ? value : null;
}

/** The largest quantity the mirror holds (a 32-bit column); Stripe's own quantities are far below it. */
export const MAX_QUANTITY = 2_147_483_647;

/** A whole-number count (quantity, `divide_by`, `up_to`) from `min` to `max`. */
export function readCount(
  record: JsonRecord | null,
  key: string,
  range: { min?: number; max?: number } = {},
): number | null {
  const value = record?.[key];
  if (value === undefined || value === null) return null;
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max) return value;
  throw new InvalidValue(key, value, `a whole number from ${min} to ${max}`);
}

/**
 * An amount in minor units: a safe integer, negative only where Stripe allows it (`signed`: invoice totals and
 * lines, which carry credits and prorations).
 */
export function readAmount(
  record: JsonRecord | null,
  key: string,
  sign: "signed" | "non-negative" = "non-negative",
): bigint | null {
  const value = record?.[key];
  if (value === undefined || value === null) return null;
  if (typeof value === "number" && Number.isSafeInteger(value) && (sign === "signed" || value >= 0))
    return BigInt(value);
  throw new InvalidValue(
    key,
    value,
    sign === "signed" ? "a whole number of minor units" : "a whole, non-negative number of minor units",
  );
}

/** Stripe times are unix seconds; anything outside these years is a broken or forged payload, not a date. */
const EARLIEST_SECONDS = Date.UTC(2000, 0, 1) / 1000;
const LATEST_SECONDS = Date.UTC(2100, 0, 1) / 1000;

/**
 * A unix time (seconds) from 2000-01-01 to 2100-01-01. `nullable` fields (Stripe sends null when unset, e.g.
 * `canceled_at`) also read 0 as unset.
 */
export function readUnixTime(
  record: JsonRecord | null,
  key: string,
  options: { nullable?: boolean } = {},
): Date | null {
  const value = record?.[key];
  if (value === undefined || value === null) return null;
  if (value === 0 && options.nullable === true) return null;
  if (
    typeof value === "number" &&
    Number.isSafeInteger(value) &&
    value >= EARLIEST_SECONDS &&
    value <= LATEST_SECONDS
  )
    return new Date(value * 1000);
  throw new InvalidValue(key, value, "a unix time from 2000-01-01 to 2100-01-01");
}

// Stripe's decimals carry at most 12 places; 26 whole digits is what the mirror's decimal(38, 12) holds.
const DECIMAL = /^-?\d{1,26}(\.\d{1,12})?$/;

/**
 * Decimal values (`unit_amount_decimal`, `quantity_decimal`, ...) arrive as strings and stay strings; a whole
 * number is accepted too (integer quantities). A fractional JSON number is refused rather than trusted as a float.
 * Negative only where Stripe allows it (`signed`: an invoice line's unit amount, which a credit makes negative).
 */
export function readDecimalString(
  record: JsonRecord | null,
  key: string,
  sign: "signed" | "non-negative" = "non-negative",
): string | null {
  const value = record?.[key];
  if (value === undefined || value === null) return null;
  const text = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text === "string" && DECIMAL.test(text) && (sign === "signed" || !text.startsWith("-")))
    return text;
  throw new InvalidValue(
    key,
    value,
    `a${sign === "signed" ? "" : " non-negative"} decimal string with at most 12 decimal places`,
  );
}

/** An expandable field: either the id string or the expanded object carrying `id`. */
export function readExpandableId(record: JsonRecord | null, key: string): string | null {
  const value = record?.[key];
  if (typeof value === "string") return value.length > 0 ? value : null;
  return readString(asRecord(value), "id");
}

/** Stripe metadata is string to string; anything else in it is dropped. */
export function readMetadata(record: JsonRecord | null, key = "metadata"): Record<string, string> {
  const value = asRecord(record?.[key]);
  if (value === null) return {};
  const metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(value)) if (typeof entry === "string") metadata[name] = entry;
  return metadata;
}

/** A Stripe list (`{object: "list", data, has_more}`), or a bare array as some hand-made payloads have. */
export function readList(
  record: JsonRecord | null,
  key: string,
): { data: unknown[]; hasMore: boolean } | null {
  const value = record?.[key];
  if (Array.isArray(value)) return { data: value, hasMore: false };
  const list = asRecord(value);
  if (list === null || !Array.isArray(list["data"])) return null;
  return { data: list["data"], hasMore: list["has_more"] === true };
}
