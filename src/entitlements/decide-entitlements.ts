import type { Catalog, Grant, Plan, Reset } from "./catalog.js";
import { Quantity } from "./quantity.js";

/**
 * Pure: a customer's subscriptions + the catalog + now -> what each feature's access is. No I/O here; the
 * access policy (docs/access-policy.md) lives in this file alone.
 */

export type EntitlementStatus = "active" | "grace" | "revoked";

export type SubscriptionItemState = {
  id: string;
  priceId: string;
  productId: string | null;
  lookupKey: string | null;
  quantity: number | null;
  currentPeriodStart: Date | null;
  currentPeriodEnd: Date | null;
};

export type SubscriptionState = {
  id: string;
  status: string;
  cancelAtPeriodEnd: boolean;
  cancelAt: Date | null;
  endedAt: Date | null;
  pauseCollection: { behavior: string | null; resumesAt: Date | null } | null;
  currentPeriodStart: Date | null;
  currentPeriodEnd: Date | null;
  /** Period start of the oldest invoice still unpaid; anchors the past_due grace. */
  unpaidSince: Date | null;
  /** When sync saw it become past_due; anchors the grace until its unpaid invoice is mirrored. */
  pastDueSince: Date | null;
  stripeCreated: Date | null;
  items: SubscriptionItemState[];
};

/**
 * A refund or dispute suspending access: of one subscription, or (subscription unknown) of every subscription
 * the customer had when it happened, so a later, newly paid subscription is not held.
 */
export type HoldState = { subscriptionId: string | null; reason: string; since: Date };

export type FeatureEntitlement = {
  feature: string;
  status: EntitlementStatus;
  /** Decimal string; null = unlimited (metered) or not a quantity (boolean), and always null once revoked. */
  limit: string | null;
  reset: Reset | null;
  /** The usage window of a metered feature that resets each billing period. */
  periodStart: Date | null;
  periodEnd: Date | null;
  graceUntil: Date | null;
  reason: string;
  sourceSubscriptionIds: string[];
};

export type EntitlementDecision = {
  /** Every feature some subscription of the customer's (in any state) grants, sorted by feature. */
  features: FeatureEntitlement[];
  /** The next moment access changes without any new Stripe event (grace or cancellation end). */
  nextChangeAt: Date | null;
};

/** Reasons a feature is granted or not; the product sees them in the access API. */
export const REASONS = {
  active: "subscription_active",
  trialing: "subscription_trialing",
  collectionPaused: "collection_paused",
  cancelScheduled: "cancel_scheduled",
  pastDue: "payment_past_due",
  graceExpired: "payment_past_due_grace_expired",
  incomplete: "subscription_incomplete",
  incompleteExpired: "subscription_incomplete_expired",
  unpaid: "subscription_unpaid",
  canceled: "subscription_canceled",
  paused: "subscription_paused",
  refunded: "payment_refunded",
  disputed: "payment_disputed",
  unknownStatus: "subscription_status_unknown",
  noPlanGrantsFeature: "no_plan_grants_feature",
} as const;

type Standing =
  | {
      granted: true;
      status: "active" | "grace";
      reason: string;
      graceUntil: Date | null;
      endsAt: Date | null;
    }
  | { granted: false; reason: string };

const DAY_MS = 24 * 60 * 60 * 1000;

/** Subscription statuses in which Stripe still expects to be paid: the ladder's granting states. */
export const ENTITLING_STATUSES: ReadonlySet<string> = new Set(["trialing", "active", "past_due"]);

function earliest(...dates: (Date | null)[]): Date | null {
  let best: Date | null = null;
  for (const date of dates) if (date !== null && (best === null || date < best)) best = date;
  return best;
}

/** The ladder: one subscription's standing at `now`. */
export function decideStanding(sub: SubscriptionState, pastDueDays: number, now: Date): Standing {
  const endsAt = earliest(sub.cancelAt, sub.cancelAtPeriodEnd ? sub.currentPeriodEnd : null, sub.endedAt);
  // A scheduled cancellation revokes at its time even if the deleted webhook never arrives; a status that
  // already denies access keeps its own reason (an expired first payment carries ended_at too).
  const grantingStatus = ENTITLING_STATUSES.has(sub.status);
  if (grantingStatus && endsAt !== null && endsAt <= now) return { granted: false, reason: REASONS.canceled };
  switch (sub.status) {
    case "active":
    case "trialing": {
      const reason =
        sub.pauseCollection !== null
          ? REASONS.collectionPaused
          : endsAt !== null
            ? REASONS.cancelScheduled
            : sub.status === "trialing"
              ? REASONS.trialing
              : REASONS.active;
      return { granted: true, status: "active", reason, graceUntil: null, endsAt };
    }
    case "past_due": {
      // The owed invoice says best when the money became due; until it is mirrored (a failed upgrade's invoice may
      // arrive after the status), the moment it turned past_due; the period start only for rows without either.
      const anchor = sub.unpaidSince ?? sub.pastDueSince ?? sub.currentPeriodStart;
      if (anchor === null) return { granted: false, reason: REASONS.graceExpired };
      const graceUntil = new Date(anchor.getTime() + pastDueDays * DAY_MS);
      if (graceUntil <= now) return { granted: false, reason: REASONS.graceExpired };
      return {
        granted: true,
        status: "grace",
        reason: REASONS.pastDue,
        graceUntil: earliest(graceUntil, endsAt),
        endsAt,
      };
    }
    case "incomplete":
      return { granted: false, reason: REASONS.incomplete };
    case "incomplete_expired":
      return { granted: false, reason: REASONS.incompleteExpired };
    case "unpaid":
      return { granted: false, reason: REASONS.unpaid };
    case "canceled":
      return { granted: false, reason: REASONS.canceled };
    case "paused":
      return { granted: false, reason: REASONS.paused };
    default:
      return { granted: false, reason: REASONS.unknownStatus };
  }
}

/** An item takes the first plan that matches it, so list specific prices before whole products. */
export function matchPlan(catalog: Catalog, item: SubscriptionItemState): Plan | undefined {
  return catalog.plans.find(({ match }) => {
    if (match.by === "price") return match.value === item.priceId;
    if (match.by === "product") return match.value === item.productId;
    return match.value === item.lookupKey;
  });
}

function holdOf(subscription: SubscriptionState, holds: readonly HoldState[], standing: Standing): Standing {
  if (!standing.granted) return standing;
  const hold = holds.find(
    (h) =>
      h.subscriptionId === subscription.id ||
      (h.subscriptionId === null &&
        (subscription.stripeCreated === null || subscription.stripeCreated <= h.since)),
  );
  return hold === undefined ? standing : { granted: false, reason: hold.reason };
}

type Contribution = {
  subscription: SubscriptionState;
  standing: Standing;
  grant: Grant;
  /** null = unlimited, or a boolean grant. */
  amount: Quantity | null;
  periodStart: Date | null;
  periodEnd: Date | null;
};

function grantAmount(grant: Grant, quantity: number | null): Quantity | null {
  // A negative quantity (a mirror written before payload values were checked) grants no seats, never minus some.
  const seats = new Quantity(Math.max(quantity ?? 1, 0));
  if (grant.type === "boolean") return null;
  const base = grant.type === "metered" ? grant.limit : grant.value;
  if (base === null) return null;
  return grant.perSeat ? new Quantity(base).times(seats) : new Quantity(base);
}

// Newest subscription first, so its period and reason speak for a feature several subscriptions grant.
function newestFirst(a: SubscriptionState, b: SubscriptionState): number {
  const byStart = (b.currentPeriodStart?.getTime() ?? 0) - (a.currentPeriodStart?.getTime() ?? 0);
  return byStart !== 0 ? byStart : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function uniqueIds(contributions: Contribution[]): string[] {
  return [...new Set(contributions.map((c) => c.subscription.id))].sort();
}

/** A feature with no access: no limit, window or grace, only the reason. */
export function revokedEntitlement(
  feature: string,
  reason: string,
  sourceSubscriptionIds: string[] = [],
): FeatureEntitlement {
  return {
    feature,
    status: "revoked",
    limit: null,
    reset: null,
    periodStart: null,
    periodEnd: null,
    graceUntil: null,
    reason,
    sourceSubscriptionIds,
  };
}

function combine(feature: string, contributions: Contribution[]): FeatureEntitlement {
  const granted = contributions.filter((c) => c.standing.granted);
  if (granted.length === 0)
    return revokedEntitlement(feature, contributions[0]!.standing.reason, uniqueIds(contributions));
  const active = granted.filter((c) => c.standing.granted && c.standing.status === "active");
  const primary = active[0] ?? granted[0]!;
  const grant = primary.grant;
  // Distinct grants add up (add-on packs, several seats); any unlimited grant makes the feature unlimited.
  let limit: string | null = null;
  if (grant.type !== "boolean" && granted.every((c) => c.amount !== null)) {
    limit = granted.reduce((sum, c) => sum.plus(c.amount!), new Quantity(0)).toFixed();
  }
  const windowed = grant.type === "metered" && grant.reset === "billing_period";
  let graceUntil: Date | null = null;
  if (active.length === 0) {
    for (const c of granted) {
      const until = c.standing.granted ? c.standing.graceUntil : null;
      if (until !== null && (graceUntil === null || until > graceUntil)) graceUntil = until;
    }
  }
  return {
    feature,
    status: active.length > 0 ? "active" : "grace",
    limit,
    reset: grant.type === "metered" ? grant.reset : null,
    periodStart: windowed ? primary.periodStart : null,
    periodEnd: windowed ? primary.periodEnd : null,
    graceUntil,
    reason: primary.standing.reason,
    sourceSubscriptionIds: uniqueIds(granted),
  };
}

/**
 * Union over all of the customer's subscriptions: a feature is granted while any subscription in an entitling
 * state grants it, so ending one subscription never removes what another still grants.
 */
export function decideEntitlements(
  catalog: Catalog,
  subscriptions: readonly SubscriptionState[],
  now: Date,
  holds: readonly HoldState[] = [],
): EntitlementDecision {
  const byFeature = new Map<string, Contribution[]>();
  let nextChangeAt: Date | null = null;
  for (const subscription of [...subscriptions].sort(newestFirst)) {
    const standing = holdOf(
      subscription,
      holds,
      decideStanding(subscription, catalog.grace.pastDueDays, now),
    );
    let grantsAnything = false;
    for (const item of [...subscription.items].sort((a, b) => (a.id < b.id ? -1 : 1))) {
      const plan = matchPlan(catalog, item);
      if (plan === undefined) continue;
      for (const grant of plan.grants) {
        grantsAnything = true;
        const list = byFeature.get(grant.feature) ?? [];
        list.push({
          subscription,
          standing,
          grant,
          amount: grantAmount(grant, item.quantity),
          periodStart: item.currentPeriodStart ?? subscription.currentPeriodStart,
          periodEnd: item.currentPeriodEnd ?? subscription.currentPeriodEnd,
        });
        byFeature.set(grant.feature, list);
      }
    }
    if (grantsAnything && standing.granted) {
      const change = standing.status === "grace" ? standing.graceUntil : standing.endsAt;
      if (change !== null && change > now) nextChangeAt = earliest(nextChangeAt, change);
    }
  }
  const features = [...byFeature.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([feature, contributions]) => combine(feature, contributions));
  return { features, nextChangeAt };
}
