import { causeLine } from "../db/client.js";
import { isDomainError } from "../errors.js";
import type { SyncOutcome } from "../sync/types.js";
import type { EventStatus } from "./event-queue.js";

export type OutcomeRecord = {
  status: EventStatus;
  ignoredReason: string | null;
  lastError: string | null;
};

/** How one sync outcome is recorded on the stored event (pure). */
export function decideOutcomeRecord(outcome: SyncOutcome): OutcomeRecord {
  switch (outcome.status) {
    case "applied":
      return { status: "processed", ignoredReason: null, lastError: null };
    case "skipped":
      // Handled: an older snapshot than the one held changes nothing; the reason is kept for the audit trail.
      return { status: "processed", ignoredReason: `skipped: ${outcome.reason}`, lastError: null };
    case "ignored":
      return { status: "ignored", ignoredReason: outcome.reason, lastError: null };
    case "unsupported":
      return { status: "unsupported", ignoredReason: null, lastError: outcome.reason };
  }
}

/** Already handled: processing again would change nothing unless an operator forces it. */
export function isHandled(status: EventStatus): boolean {
  return status === "processed" || status === "ignored";
}

/** Longest error kept on a stored event; the full error is in the worker's log. */
const MAX_ERROR_LENGTH = 300;

/**
 * A processing failure as one short line for `stripe_events.lastError`. Prisma's messages open with the call site,
 * the source excerpt or the whole query arguments, and end with the cause: that last line is the one kept.
 */
export function describeEventError(error: unknown): string {
  if (isDomainError(error)) return limit(`${error.code}: ${causeOf(error.message)}`);
  if (!(error instanceof Error)) return limit(causeOf(String(error)));
  const code = "code" in error && typeof error.code === "string" ? ` ${error.code}` : "";
  return limit(`${error.name}${code}: ${causeOf(error.message)}`);
}

const causeOf = (message: string) => causeLine(message) ?? "no message";

function limit(line: string): string {
  return line.length <= MAX_ERROR_LENGTH ? line : `${line.slice(0, MAX_ERROR_LENGTH - 3)}...`;
}
