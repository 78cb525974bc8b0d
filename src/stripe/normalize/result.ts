import type { Normalized } from "./types.js";

export function readable<T>(value: T): Normalized<T> {
  return { ok: true, value };
}

export function unreadable<T>(reason: string): Normalized<T> {
  return { ok: false, reason };
}
