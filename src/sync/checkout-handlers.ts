import { applyEntitlementsForCustomer } from "../entitlements/apply-entitlements.js";
import { fetchSubscription } from "../stripe/fetchers.js";
import type { CheckoutSessionSnapshot } from "../stripe/normalize/index.js";
import { waitForSecondToSettle } from "./ask-stripe.js";
import { causeOf, type HandlerContext, outcomeOf } from "./handler.js";
import { saveFetchedSubscription } from "./save-fetched.js";
import type { SyncOutcome } from "./types.js";

/**
 * checkout.session.completed: a subscription checkout's created (incomplete) and updated (active) events may arrive
 * in any order around it, so the subscription is read from Stripe and applied as it is now. Stripe unreachable
 * fails the event, which is retried: there is nothing else to apply.
 */
export async function applyCheckoutSessionEvent(
  handler: HandlerContext,
  session: CheckoutSessionSnapshot,
): Promise<SyncOutcome> {
  const { ctx, event } = handler;
  const id = session.stripeCheckoutSessionId;
  if (session.mode !== "subscription")
    return {
      status: "ignored",
      reason: `${event.type} for ${id} in ${session.mode ?? "unknown"} mode: no subscription to apply`,
    };
  if (session.stripeSubscriptionId === null)
    return { status: "unsupported", reason: `subscription checkout ${id} names no subscription` };
  const subscriptionId = session.stripeSubscriptionId;
  await waitForSecondToSettle(event.created);
  const fetched = await fetchSubscription(ctx.stripe, subscriptionId);
  if (fetched === null)
    return { status: "skipped", reason: `Stripe does not know subscription ${subscriptionId}` };
  const write = await saveFetchedSubscription(ctx, fetched);
  const outcome = outcomeOf(
    write.decision,
    `checkout ${id} completed: subscription ${subscriptionId} ${fetched.snapshot.status} as Stripe has it`,
  );
  if (outcome.status === "applied")
    await applyEntitlementsForCustomer(ctx, write.stripeCustomerId, causeOf(event));
  return outcome;
}
