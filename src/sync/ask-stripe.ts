import type { Fetched } from "../stripe/normalize/index.js";
import type { HandlerContext } from "./handler.js";

/** Stripe stamps events in whole seconds; one more second allows for clock skew between Stripe and us. */
const SETTLE_MS = 2000;

/**
 * Waits until the event's second is over, so that a read of Stripe settles that whole second: every change Stripe
 * stamped with it has happened by then. Webhooks usually arrive later than this anyway.
 */
export async function waitForSecondToSettle(eventCreated: Date): Promise<void> {
  const wait = eventCreated.getTime() + SETTLE_MS - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, SETTLE_MS)));
}

export type StripeQuestion = { object: "subscription" | "invoice"; id: string; reason: string };

/**
 * Reads Stripe's own copy of an object to settle what the event's time could not. Returns null (and logs why) when
 * Stripe cannot answer or does not know the object; the caller then decides by the state machine rule.
 */
export async function askStripe<T>(
  handler: HandlerContext,
  question: StripeQuestion,
  fetch: () => Promise<Fetched<T> | null>,
): Promise<Fetched<T> | null> {
  const { event, log } = handler;
  const fields = { event_id: event.id, object: question.object, id: question.id, question: question.reason };
  await waitForSecondToSettle(event.created);
  try {
    const fetched = await fetch();
    if (fetched === null) log.warn(fields, "stripe does not know the object; decided by the lifecycle rule");
    else log.info(fields, "stripe's copy settles the order");
    return fetched;
  } catch (error) {
    log.warn(
      { ...fields, err: (error as Error).message },
      "stripe unreachable; decided by the lifecycle rule",
    );
    return null;
  }
}
