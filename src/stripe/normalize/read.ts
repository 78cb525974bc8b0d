/** Lenient readers for Stripe JSON: a field of the wrong type reads as absent (null), extra keys are ignored. */

export type JsonRecord = Record<string, unknown>;

export function asRecord(value: unknown): JsonRecord | null {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as JsonRecord) : null;
}

export function readString(record: JsonRecord | null, key: string): string | null {
  const value = record?.[key];
  return typeof value === "string" && value.length > 0 ? value : null;
}

export function readInteger(record: JsonRecord | null, key: string): number | null {
  const value = record?.[key];
  return typeof value === "number" && Number.isSafeInteger(value) ? value : null;
}

export function readBoolean(record: JsonRecord | null, key: string): boolean | null {
  const value = record?.[key];
  return typeof value === "boolean" ? value : null;
}

/** Stripe timestamps are unix seconds. */
export function readUnixTime(record: JsonRecord | null, key: string): Date | null {
  const seconds = readInteger(record, key);
  return seconds === null ? null : new Date(seconds * 1000);
}

const DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * Decimal values (`unit_amount_decimal`, `quantity_decimal`, ...) arrive as strings and stay strings; a whole
 * number is accepted too (integer quantities). A fractional JSON number is refused rather than trusted as a float.
 */
export function readDecimalString(record: JsonRecord | null, key: string): string | null {
  const value = record?.[key];
  if (typeof value === "string") return DECIMAL.test(value) ? value : null;
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  return null;
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
