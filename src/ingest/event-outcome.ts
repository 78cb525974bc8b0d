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
