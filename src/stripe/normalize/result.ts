import { asRecord, InvalidValue, readString } from "./read.js";
import type { Normalized } from "./types.js";

export function readable<T>(value: T): Normalized<T> {
  return { ok: true, value };
}

export function unreadable<T>(reason: string): Normalized<T> {
  return { ok: false, reason };
}

/**
 * Runs a reader over one Stripe object: an invalid value anywhere in it refuses the whole object, with a reason
 * naming the object, the field and the value (`subscription sub_1: items.data[0].quantity is -3, expected ...`).
 */
export function refusingInvalidValues<T>(
  kind: string,
  raw: unknown,
  read: (raw: unknown) => Normalized<T>,
): Normalized<T> {
  try {
    return read(raw);
  } catch (error) {
    if (!(error instanceof InvalidValue)) throw error;
    const id = readString(asRecord(raw), "id");
    return unreadable(`${kind}${id === null ? "" : ` ${id}`}: ${error.message}`);
  }
}
