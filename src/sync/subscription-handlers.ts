import { applyEntitlementsForCustomer } from "../entitlements/apply-entitlements.js";
import { fetchSubscription } from "../stripe/fetchers.js";
import type { SubscriptionSnapshot } from "../stripe/normalize/index.js";
import { askStripe } from "./ask-stripe.js";
import { causeOf, type HandlerContext, outcomeOf, versionOf } from "./handler.js";
import { inMirrorTransaction } from "./mirror-transaction.js";
import { saveFetchedSubscription } from "./save-fetched.js";
import { saveSubscription } from "./subscription-mirror.js";
import type { SyncOutcome } from "./types.js";

/**
 * customer.subscription.created / updated / deleted / paused / resumed / pending_update_applied /
 * pending_update_expired / trial_will_end: every one carries the whole subscription, so all are one upsert.
 * When the event's time cannot order it against the held row, Stripe's current copy is applied instead.
 */
export async function applySubscriptionEvent(
  handler: HandlerContext,
  subscription: SubscriptionSnapshot,
): Promise<SyncOutcome> {
  const { ctx, event } = handler;
  const id = subscription.stripeSubscriptionId;
  const version = versionOf(event);
  let write = await inMirrorTransaction(ctx.db, (tx) => saveSubscription(tx, subscription, version, "ask"));
  let detail = `subscription ${id} ${subscription.status}, ${subscription.items.length} item(s)`;
  if (!write.decision.write && write.decision.ask) {
    const question = { object: "subscription" as const, id, reason: write.decision.reason };
    const truth = await askStripe(handler, question, () => fetchSubscription(ctx.stripe, id));
    if (truth === null) {
      write = await inMirrorTransaction(ctx.db, (tx) => saveSubscription(tx, subscription, version, "rule"));
    } else {
      write = await saveFetchedSubscription(ctx, truth);
      detail = `subscription ${id} ${truth.snapshot.status} as Stripe has it (${question.reason})`;
    }
  }
  const outcome = outcomeOf(write.decision, detail);
  if (outcome.status === "applied")
    await applyEntitlementsForCustomer(ctx, subscription.stripeCustomerId, causeOf(event));
  return outcome;
}
