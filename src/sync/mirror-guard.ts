/**
 * Whether a snapshot may overwrite a mirrored row (pure). Every row remembers the time of the newest data applied
 * to it: the Stripe `created` of an event, or the time a read of Stripe's API stands for. Older data is stale.
 *
 * An event in the same second as the held row is ordered by Stripe's own state machine where it can be (a
 * subscription is `incomplete` first and `canceled` last; an invoice goes draft, open, uncollectible, paid or void).
 * Where neither the clock nor the state machine can decide (two live statuses in one second, or an event newer
 * than a state Stripe never leaves), the decision asks for Stripe's own copy, and says what to do without it.
 */

/** What the guard says about one write; `ask` only comes with a refusal, so a caller that ignores it skips. */
export type GuardDecision =
  | { write: true }
  | { write: false; reason: string; ask?: { fallback: SettledDecision } };

/** A decision that never asks Stripe. */
export type SettledDecision = { write: true } | { write: false; reason: string };

/**
 * The data's time and origin. `eventId` is null for a read of Stripe's API. How a same-second conflict is settled:
 * `ask` (an event; may ask Stripe), `rule` (an event; Stripe could not be asked, so the state machine rule holds),
 * `fetched` (Stripe's own current copy: only the clock decides).
 */
export type EventVersion = { eventCreated: Date; eventId: string | null };
export type GuardMode = "ask" | "rule" | "fetched";
export type HeldVersion = { eventCreated: Date | null };

const WRITE: SettledDecision = { write: true };
export const STALE_REASON = "stale";

function byEventTime(held: HeldVersion | null, incoming: EventVersion): SettledDecision {
  if (held === null || held.eventCreated === null) return WRITE;
  if (incoming.eventCreated.getTime() < held.eventCreated.getTime())
    return { write: false, reason: STALE_REASON };
  return WRITE;
}

function sameTime(held: HeldVersion, incoming: EventVersion): boolean {
  return held.eventCreated !== null && held.eventCreated.getTime() === incoming.eventCreated.getTime();
}

/** Refuses with `reason` unless Stripe's copy can settle it (mode `ask`); `fallback` is the rule without Stripe. */
function askOr(mode: GuardMode, reason: string, fallback: SettledDecision): GuardDecision {
  return mode === "ask" ? { write: false, reason, ask: { fallback } } : fallback;
}

/** Statuses Stripe never moves a subscription out of. */
const TERMINAL_SUBSCRIPTION_STATUSES = new Set(["canceled", "incomplete_expired"]);

export function decideSubscriptionWrite(
  held: (HeldVersion & { status: string }) | null,
  incoming: EventVersion & { status: string },
  mode: GuardMode,
): GuardDecision {
  const byTime = byEventTime(held, incoming);
  if (!byTime.write || held === null || mode === "fetched" || incoming.status === held.status) return byTime;
  const sameSecond = sameTime(held, incoming);
  if (TERMINAL_SUBSCRIPTION_STATUSES.has(held.status)) {
    const terminal: SettledDecision = {
      write: false,
      reason: `terminal: subscription is ${held.status} and cannot become ${incoming.status}`,
    };
    // In one second the terminal status is the later one, unless both are terminal.
    if (sameSecond && !TERMINAL_SUBSCRIPTION_STATUSES.has(incoming.status)) return terminal;
    return askOr(mode, `in question: ${incoming.status} after ${held.status}`, terminal);
  }
  // `incomplete` is only ever the first status; a subscription that left it never returns to it.
  if (incoming.status === "incomplete")
    return {
      write: false,
      reason: `terminal: subscription is ${held.status} and cannot return to incomplete`,
    };
  if (!sameSecond || held.status === "incomplete" || TERMINAL_SUBSCRIPTION_STATUSES.has(incoming.status))
    return WRITE;
  return askOr(mode, `tie: ${incoming.status} in the same second as the held ${held.status}`, WRITE);
}

/** Invoice statuses Stripe never moves out of (`deleted` is a removed draft). */
const TERMINAL_INVOICE_STATUSES = new Set(["paid", "void", "deleted"]);
/** How far along its life an invoice is, for same-second ties (finalized and paid often share a second). */
const INVOICE_PROGRESS: Record<string, number> = {
  draft: 0,
  open: 1,
  uncollectible: 2,
  paid: 3,
  void: 3,
  deleted: 3,
};

export function decideInvoiceWrite(
  held: (HeldVersion & { status: string | null }) | null,
  incoming: EventVersion & { status: string | null },
  mode: GuardMode,
): GuardDecision {
  const byTime = byEventTime(held, incoming);
  if (
    !byTime.write ||
    held === null ||
    mode === "fetched" ||
    held.status === null ||
    incoming.status === null ||
    incoming.status === held.status
  )
    return byTime;
  const sameSecond = sameTime(held, incoming);
  const heldProgress = INVOICE_PROGRESS[held.status];
  const incomingProgress = INVOICE_PROGRESS[incoming.status];
  const behind =
    sameSecond &&
    heldProgress !== undefined &&
    incomingProgress !== undefined &&
    incomingProgress < heldProgress;
  if (TERMINAL_INVOICE_STATUSES.has(held.status)) {
    const terminal: SettledDecision = {
      write: false,
      reason: `terminal: invoice is ${held.status} and cannot become ${incoming.status}`,
    };
    if (behind) return terminal;
    return askOr(mode, `in question: ${incoming.status} after ${held.status}`, terminal);
  }
  if (behind)
    return {
      write: false,
      reason: `stale: ${incoming.status} in the same second as the held ${held.status}`,
    };
  return WRITE;
}

export function decideCustomerWrite(
  held: (HeldVersion & { deleted: boolean }) | null,
  incoming: EventVersion & { deleted: boolean },
): GuardDecision {
  const byTime = byEventTime(held, incoming);
  if (!byTime.write || held === null) return byTime;
  if (held.deleted && !incoming.deleted)
    return { write: false, reason: "terminal: customer is deleted and cannot come back" };
  return WRITE;
}

export function decidePriceWrite(held: HeldVersion | null, incoming: EventVersion): GuardDecision {
  return byEventTime(held, incoming);
}
