import type { AppContext } from "../app-context.js";
import type { Logger } from "../config/logger.js";
import { applyEntitlementsForCustomer } from "../entitlements/apply-entitlements.js";
import { listAllSubscriptions } from "../stripe/fetchers.js";
import { saveFetchedSubscription } from "../sync/save-fetched.js";

export type ObjectBackfillResult = {
  /** The time the listing stands for: events stamped from then on outrank it. */
  fetchedAt: Date;
  listed: number;
  /** Never mirrored before (their events never arrived). */
  created: number;
  /** Mirrored, but Stripe's copy differs in something access depends on. */
  updated: number;
  unchanged: number;
  /** The mirror already holds an event newer than the listing. */
  newerHeld: number;
  unreadable: number;
  /** Customers whose entitlements were recomputed because a subscription of theirs was created or updated. */
  customers: number;
  accessChanges: number;
};

export const OBJECT_BACKFILL_CAUSE = "job:backfill-objects";

/**
 * Lists every subscription Stripe has (ended ones included) and saves each into the mirror through the guard, as
 * of the listing; then recomputes access for the customers whose subscriptions changed. Repairs what missed
 * webhooks left behind, beyond Stripe's 30-day events history.
 */
export async function backfillSubscriptionObjects(
  ctx: AppContext,
  log: Logger,
): Promise<ObjectBackfillResult> {
  const listing = listAllSubscriptions(ctx.stripe);
  const result: ObjectBackfillResult = {
    fetchedAt: listing.fetchedAt,
    listed: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    newerHeld: 0,
    unreadable: 0,
    customers: 0,
    accessChanges: 0,
  };
  const changedCustomers = new Set<string>();
  for await (const listed of listing.subscriptions) {
    result.listed += 1;
    if (!listed.ok) {
      result.unreadable += 1;
      log.warn({ id: listed.id, reason: listed.reason }, "listed stripe subscription not readable; skipped");
      continue;
    }
    const write = await saveFetchedSubscription(ctx, {
      snapshot: listed.value,
      fetchedAt: listing.fetchedAt,
    });
    if (!write.decision.write) result.newerHeld += 1;
    else if (write.created) result.created += 1;
    else if (write.changed) result.updated += 1;
    else result.unchanged += 1;
    if (write.changed) {
      changedCustomers.add(write.stripeCustomerId);
      log.info(
        {
          subscription: listed.value.stripeSubscriptionId,
          customer: write.stripeCustomerId,
          before: write.previousStatus,
          after: listed.value.status,
        },
        write.created ? "subscription never mirrored; backfilled" : "subscription out of date; backfilled",
      );
    }
  }
  for (const customer of [...changedCustomers].sort()) {
    const applied = await applyEntitlementsForCustomer(ctx, customer, { cause: OBJECT_BACKFILL_CAUSE });
    result.accessChanges += applied.changes.length;
  }
  result.customers = changedCustomers.size;
  log.info({ ...result }, "stripe subscriptions backfilled");
  return result;
}
