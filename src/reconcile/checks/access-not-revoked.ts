import { ENTITLING_STATUSES } from "../../entitlements/decide-entitlements.js";
import { type FindingDraft, fingerprintOf, isoTime } from "../findings.js";
import { type Dec, toMinorString } from "../money.js";
import { priceQuantity } from "../pricing.js";
import type {
  EntitlementSnapshot,
  MirroredSubscription,
  PriceSnapshot,
  SubscriptionSnapshot,
} from "../snapshots.js";
import { NO_USAGE, type UsageTotals, type UsageWindow, usageIn } from "../usage-windows.js";
import { type FeatureMapping, featureOfPrice } from "./feature-of-price.js";

/** What finding a lapse takes: who holds access, and every subscription Stripe has for them. */
export type LapseInput = FeatureMapping & {
  entitlements: readonly EntitlementSnapshot[];
  /** Every subscription Stripe has for a customer (status=all); customers not fetched are not judged. */
  subscriptionsByCustomer: ReadonlyMap<string, readonly SubscriptionSnapshot[]>;
  /** End of the reconciled period: usage after the subscription ended is counted up to here. */
  periodTo: Date;
  /** Currency of a finding when the customer has no subscription to take one from. */
  fallbackCurrency: string;
};

export type AccessNotRevokedInput = LapseInput & {
  /** leakguard's own record of each ended subscription (by id), to say why access outlived it. */
  mirroredSubscriptions: ReadonlyMap<string, MirroredSubscription>;
};

type Lapse = {
  customerId: string;
  entitlements: EntitlementSnapshot[];
  subscriptions: readonly SubscriptionSnapshot[];
  /** The most recently ended subscription, the one whose end should have revoked access. */
  ended: SubscriptionSnapshot | null;
  endedAt: Date | null;
};

/** Customers holding access (active or grace) although none of their subscriptions entitles them any more. */
function findLapses(input: LapseInput): Lapse[] {
  const held = new Map<string, EntitlementSnapshot[]>();
  for (const entitlement of input.entitlements) {
    if (entitlement.status === "revoked") continue;
    held.set(entitlement.customerId, [...(held.get(entitlement.customerId) ?? []), entitlement]);
  }
  const lapses: Lapse[] = [];
  for (const [customerId, entitlements] of held) {
    const subscriptions = input.subscriptionsByCustomer.get(customerId);
    if (subscriptions === undefined) continue;
    if (subscriptions.some((subscription) => ENTITLING_STATUSES.has(subscription.status))) continue;
    const ended = latestEnded(subscriptions);
    lapses.push({
      customerId,
      entitlements,
      subscriptions,
      ended,
      endedAt: ended === null ? null : endOf(ended),
    });
  }
  return lapses;
}

function endOf(subscription: SubscriptionSnapshot): Date | null {
  return subscription.endedAt ?? subscription.canceledAt;
}

function latestEnded(subscriptions: readonly SubscriptionSnapshot[]): SubscriptionSnapshot | null {
  let latest: SubscriptionSnapshot | null = null;
  for (const subscription of subscriptions) {
    const end = endOf(subscription);
    if (end === null) continue;
    const latestEnd = latest === null ? null : endOf(latest);
    if (latestEnd === null || end > latestEnd) latest = subscription;
  }
  return latest ?? subscriptions[0] ?? null;
}

function windowAfterEnd(lapse: Lapse, feature: string, periodTo: Date): UsageWindow | null {
  if (lapse.endedAt === null || lapse.endedAt >= periodTo) return null;
  return { customerId: lapse.customerId, feature, from: lapse.endedAt, to: periodTo };
}

/** The ended subscriptions of customers still holding access: whose mirror history explains each finding. */
export function findLapsedSubscriptionIds(input: LapseInput): string[] {
  return findLapses(input).flatMap((lapse) => (lapse.ended === null ? [] : [lapse.ended.id]));
}

/**
 * Why access outlived the subscription, in one sentence: what Stripe says, then what leakguard missed, e.g.
 * "subscription sub_1 is canceled in Stripe since 2026-11-20T00:00:00Z; the deletion webhook never arrived".
 */
export function explainLapse(
  customerId: string,
  ended: SubscriptionSnapshot | null,
  endedAt: Date | null,
  mirrored: MirroredSubscription | undefined,
): string {
  if (ended === null)
    return `Stripe lists no subscription for ${customerId}, yet leakguard still grants access`;
  const since = endedAt === null ? "" : ` since ${isoTime(endedAt)}`;
  const stripeSays = `subscription ${ended.id} is ${ended.status} in Stripe${since}`;
  const mirrorStatus = mirrored?.status ?? null;
  const event = mirrored?.deletionEvent ?? null;
  if (mirrorStatus === null && event === null)
    return `${stripeSays}; no webhook for it was ever applied (the mirror has no copy of it)`;
  if (mirrorStatus === ended.status)
    return `${stripeSays}; the mirror has it ${mirrorStatus} too, but access was never recomputed`;
  const mirrorSays =
    mirrorStatus === null ? "the mirror has no copy of it" : `the mirror still says ${mirrorStatus}`;
  if (event !== null)
    return `${stripeSays}; the deletion webhook ${event.id} arrived but was not applied (${event.status}; ${mirrorSays})`;
  if (ended.status === "canceled") return `${stripeSays}; the deletion webhook never arrived (${mirrorSays})`;
  return `${stripeSays}; the webhook announcing it never arrived (${mirrorSays})`;
}

/** The usage windows the check needs: each lapsed feature's usage from the subscription's end to the period end. */
export function findAccessWindows(input: LapseInput): UsageWindow[] {
  return findLapses(input).flatMap((lapse) =>
    lapse.entitlements
      .map((entitlement) => windowAfterEnd(lapse, entitlement.feature, input.periodTo))
      .filter((window): window is UsageWindow => window !== null),
  );
}

/**
 * One finding per (customer, feature) still accessible after payment ended. Its amount is the feature's usage
 * since the subscription ended, priced at the ended subscription's item that billed that feature (0 if none did).
 */
export function checkAccessNotRevoked(input: AccessNotRevokedInput & { usage: UsageTotals }): FindingDraft[] {
  const findings: FindingDraft[] = [];
  for (const lapse of findLapses(input)) {
    for (const entitlement of lapse.entitlements) {
      const window = windowAfterEnd(lapse, entitlement.feature, input.periodTo);
      const usage = window === null ? NO_USAGE : usageIn(input.usage, window);
      const billing = billingItem(lapse.ended, entitlement.feature, input);
      const amountMinor: Dec = billing === null ? NO_USAGE : priceQuantity(billing.price, usage).exactMinor;
      findings.push({
        fingerprint: fingerprintOf("access_not_revoked", [
          lapse.customerId,
          entitlement.feature,
          lapse.ended?.id ?? "no-subscription",
        ]),
        category: "access_not_revoked",
        customerId: lapse.customerId,
        feature: entitlement.feature,
        expected: "revoked",
        actual: entitlement.status,
        amountMinor: toMinorString(amountMinor),
        currency: billing?.price.currency ?? lapse.ended?.currency ?? input.fallbackCurrency,
        evidence: {
          why: explainLapse(
            lapse.customerId,
            lapse.ended,
            lapse.endedAt,
            lapse.ended === null ? undefined : input.mirroredSubscriptions.get(lapse.ended.id),
          ),
          subscription: lapse.ended?.id ?? null,
          subscription_status: lapse.ended?.status ?? null,
          ended_at: lapse.endedAt === null ? null : isoTime(lapse.endedAt),
          subscriptions: lapse.subscriptions.map((subscription) => ({
            id: subscription.id,
            status: subscription.status,
          })),
          entitlement_status: entitlement.status,
          entitlement_source: entitlement.source,
          period: window === null ? null : { from: isoTime(window.from), to: isoTime(window.to) },
          usage_after_end: toMinorString(usage),
          subscription_item: billing?.itemId ?? null,
          price: billing?.price.id ?? null,
        },
      });
    }
  }
  return findings;
}

function billingItem(
  subscription: SubscriptionSnapshot | null,
  feature: string,
  mapping: FeatureMapping,
): { itemId: string; price: PriceSnapshot } | null {
  for (const item of subscription?.items ?? []) {
    if (featureOfPrice(item.priceId, mapping)?.feature !== feature) continue;
    const price = mapping.prices.get(item.priceId);
    if (price !== undefined) return { itemId: item.id, price };
  }
  return null;
}
