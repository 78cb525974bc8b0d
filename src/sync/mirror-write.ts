import type { GuardDecision } from "./mirror-guard.js";

/** What one guarded write of a subscription or invoice did, for the callers that act on changes. */
export type MirrorWrite = {
  decision: GuardDecision;
  stripeCustomerId: string;
  /** No row was held before. */
  created: boolean;
  /** The write changed something access depends on (status, periods, cancellation, items). */
  changed: boolean;
  previousStatus: string | null;
};
