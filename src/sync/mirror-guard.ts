/**
 * Whether an event's snapshot may overwrite a mirrored row (pure). Every row remembers the Stripe `created` time
 * of the newest event applied to it; an older event is stale. Same-second ties are applied (a snapshot applied
 * twice changes nothing), except where Stripe's own state machine says the held state cannot be left.
 */

export type GuardDecision = { write: true } | { write: false; reason: string };

export type EventVersion = { eventCreated: Date; eventId: string };
export type HeldVersion = { eventCreated: Date | null };

const WRITE: GuardDecision = { write: true };
export const STALE_REASON = "stale";

function byEventTime(held: HeldVersion | null, incoming: EventVersion): GuardDecision {
  if (held === null || held.eventCreated === null) return WRITE;
  if (incoming.eventCreated.getTime() < held.eventCreated.getTime())
    return { write: false, reason: STALE_REASON };
  return WRITE;
}

/** Statuses Stripe never moves a subscription out of. */
const TERMINAL_SUBSCRIPTION_STATUSES = new Set(["canceled", "incomplete_expired"]);

export function decideSubscriptionWrite(
  held: (HeldVersion & { status: string }) | null,
  incoming: EventVersion & { status: string },
): GuardDecision {
  const byTime = byEventTime(held, incoming);
  if (!byTime.write || held === null) return byTime;
  if (TERMINAL_SUBSCRIPTION_STATUSES.has(held.status) && incoming.status !== held.status)
    return {
      write: false,
      reason: `terminal: subscription is ${held.status} and cannot become ${incoming.status}`,
    };
  // `incomplete` is only ever the first status; a subscription that left it never returns to it.
  if (held.status !== "incomplete" && incoming.status === "incomplete")
    return {
      write: false,
      reason: `terminal: subscription is ${held.status} and cannot return to incomplete`,
    };
  return WRITE;
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
): GuardDecision {
  const byTime = byEventTime(held, incoming);
  if (!byTime.write || held === null || held.status === null || incoming.status === null) return byTime;
  if (TERMINAL_INVOICE_STATUSES.has(held.status) && incoming.status !== held.status)
    return {
      write: false,
      reason: `terminal: invoice is ${held.status} and cannot become ${incoming.status}`,
    };
  const sameSecond =
    held.eventCreated !== null && held.eventCreated.getTime() === incoming.eventCreated.getTime();
  const heldProgress = INVOICE_PROGRESS[held.status];
  const incomingProgress = INVOICE_PROGRESS[incoming.status];
  if (
    sameSecond &&
    heldProgress !== undefined &&
    incomingProgress !== undefined &&
    incomingProgress < heldProgress
  )
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
