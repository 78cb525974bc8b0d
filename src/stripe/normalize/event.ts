import { asRecord, type JsonRecord } from "./read.js";
import { readable, unreadable } from "./result.js";
import type { Normalized } from "./types.js";

/** The object an event envelope carries in `data.object` (a snapshot of it at the time of the event). */
export function readEventObject(envelope: unknown): Normalized<JsonRecord> {
  const object = asRecord(asRecord(asRecord(envelope)?.["data"] ?? null)?.["object"] ?? null);
  return object === null ? unreadable("event has no data.object") : readable(object);
}
