import type { AppContext } from "../app-context.js";
import type { Logger } from "../config/logger.js";
import type { EventVersion, GuardDecision } from "./mirror-guard.js";
import type { StoredStripeEvent, SyncOutcome } from "./types.js";

/** What every event handler receives besides its normalized snapshot. */
export type HandlerContext = { ctx: AppContext; event: StoredStripeEvent; log: Logger };

export function versionOf(event: StoredStripeEvent): EventVersion {
  return { eventCreated: event.created, eventId: event.id };
}

export function outcomeOf(decision: GuardDecision, detail: string): SyncOutcome {
  return decision.write ? { status: "applied", detail } : { status: "skipped", reason: decision.reason };
}

/** An entitlement recomputation caused by this event. */
export function causeOf(event: StoredStripeEvent): { cause: string; eventId: string } {
  return { cause: `event:${event.id}`, eventId: event.id };
}
