import type { AppContext } from "../app-context.js";
import { customerIdSql, requireCustomerId } from "../customers/resolve-customer.js";
import { createPgPool, type PgPool } from "../db/pg-pool.js";
import { loadUsageTotal } from "../ledger/usage-totals.js";
import { applyEntitlementsForCustomer } from "./apply-entitlements.js";
import type { FeatureDefinition } from "./catalog.js";
import { countsUsage, decideFeatureAccess, type FeatureAccess } from "./decide-access.js";
import { decideAccessChanges, type StoredEntitlement } from "./decide-access-changes.js";
import {
  decideEntitlements,
  type EntitlementDecision,
  type EntitlementStatus,
  type FeatureEntitlement,
  type HoldState,
  type SubscriptionState,
} from "./decide-entitlements.js";
import { Quantity } from "./quantity.js";

export const ACCESS_CHECK_CAUSE = "check:access-api";

/**
 * The access API's reads, on plain pg: a check is one statement, and Prisma's per-query overhead was most of a
 * request (see bench/check-api.bench.ts). Checks arriving in the same event-loop turn share one statement, so a
 * busy server sends one query (one round trip, one plan) for many requests. Writes go through Prisma.
 */
export type AccessReader = {
  /** The customer's access state, or null when `customer` names no customer. */
  read: (customer: string, meteredFeatures: readonly string[]) => Promise<AccessStateRow | null>;
  close: () => Promise<void>;
};

export type AccessQueryable = Pick<PgPool, "query" | "end">;

export function createAccessReader(databaseUrl: string, poolSize = 10): AccessReader {
  const pool = createPgPool(databaseUrl, {
    max: poolSize,
    // Every read is key lookups, one plan whatever the keys and batch size: plan once per connection.
    sessionOptions: "-c plan_cache_mode=force_generic_plan",
  });
  return batchingReader(pool);
}

const MAX_BATCH = 64;

type PendingRead = {
  customer: string;
  features: string;
  resolve: (row: AccessStateRow | null) => void;
  reject: (error: unknown) => void;
};

/** Reads queued in one event-loop turn go to Postgres together, at most MAX_BATCH per statement. */
export function batchingReader(pool: AccessQueryable): AccessReader {
  let queued: PendingRead[] = [];
  const send = async (batch: PendingRead[]) => {
    try {
      const result = await pool.query<AccessStateRow & { n: string }>({
        name: "access-state",
        text: ACCESS_STATE_SQL,
        values: [batch.map((read) => read.customer), batch.map((read) => read.features)],
      });
      const byPosition = new Map(result.rows.map((row) => [Number(row.n), row]));
      for (const [index, read] of batch.entries()) read.resolve(byPosition.get(index + 1) ?? null);
    } catch (error) {
      for (const read of batch) read.reject(error);
    }
  };
  const flush = () => {
    const batch = queued;
    queued = [];
    for (let start = 0; start < batch.length; start += MAX_BATCH)
      void send(batch.slice(start, start + MAX_BATCH));
  };
  return {
    read: (customer, meteredFeatures) =>
      new Promise((resolve, reject) => {
        if (queued.length === 0) setImmediate(flush);
        // Catalog feature keys never hold a comma (catalog.ts), so a list travels as one string per read.
        queued.push({ customer, features: meteredFeatures.join(","), resolve, reject });
      }),
    close: () => pool.end(),
  };
}

/** Everything one answer is decided from, as read in one statement. */
type AccessState = {
  stripeCustomerId: string;
  subscriptions: SubscriptionState[];
  holds: HoldState[];
  stored: StoredEntitlement[];
  /** Ledger total of each stored, unrevoked entitlement asked for, over the stored entitlement's usage window. */
  usedByFeature: Map<string, string>;
};

// Mirrored times are UTC `timestamp`s; epoch milliseconds keep them exact whatever the session's time zone.
const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::bigint`;
const WINDOWED = `e.reset = 'billing_period'`;

/**
 * One row per read `n` (1-based) of a batch, none for an unknown customer. $1: each customer as the API names it
 * (Stripe id, or the product's id, resolved as resolveCustomerId does); $2: the metered features (comma-separated)
 * whose usage each answer needs. Every read is an index lookup by customer (ledger usage by customer, feature and
 * occurredAt).
 */
const ACCESS_STATE_SQL = `
SELECT r.n, c.id AS "stripeCustomerId",
  (SELECT coalesce(json_agg(json_build_object(
      'id', s.id, 'status', s.status, 'cancelAtPeriodEnd', s."cancelAtPeriodEnd",
      'cancelAt', ${ms('s."cancelAt"')}, 'endedAt', ${ms('s."endedAt"')}, 'pauseCollection', s."pauseCollection",
      'currentPeriodStart', ${ms('s."currentPeriodStart"')}, 'currentPeriodEnd', ${ms('s."currentPeriodEnd"')},
      'stripeCreated', ${ms('s."stripeCreated"')},
      'unpaidSince', CASE WHEN s.status = 'past_due' THEN (
        SELECT ${ms('min(coalesce(i."periodEnd", i."stripeCreated", i."periodStart"))')}
        FROM invoices i WHERE i."subscriptionId" = s.id AND i.status = 'open') END,
      'items', (
        SELECT coalesce(json_agg(json_build_object(
            'id', it.id, 'priceId', it."priceId", 'productId', coalesce(it."productId", p."productId"),
            'lookupKey', p."lookupKey", 'quantity', it.quantity,
            'currentPeriodStart', ${ms('it."currentPeriodStart"')}, 'currentPeriodEnd', ${ms('it."currentPeriodEnd"')}
          ) ORDER BY it.id), '[]'::json)
        FROM subscription_items it LEFT JOIN prices p ON p.id = it."priceId"
        WHERE it."subscriptionId" = s.id)
    ) ORDER BY s.id), '[]'::json)
   FROM subscriptions s WHERE s."customerId" = c.id) AS subscriptions,
  (SELECT coalesce(json_agg(json_build_object(
      'subscriptionId', h."subscriptionId", 'reason', h.reason, 'since', ${ms('coalesce(h."eventCreated", h."createdAt")')}
    ) ORDER BY h."createdAt"), '[]'::json)
   FROM entitlement_holds h WHERE h."customerId" = c.id AND h."releasedAt" IS NULL) AS holds,
  (SELECT coalesce(json_agg(json_build_object(
      'feature', e.feature, 'status', e.status, 'limit', e."limit"::text, 'reset', e.reset,
      'periodStart', ${ms('e."periodStart"')}, 'periodEnd', ${ms('e."periodEnd"')},
      'graceUntil', ${ms('e."graceUntil"')}, 'reason', e.reason, 'source', e.source,
      'used', CASE WHEN e.feature = ANY(string_to_array(r.features, ',')) AND e.status <> 'revoked' THEN (
        SELECT coalesce(sum(l.quantity), 0)::text FROM ledger_entries l
        WHERE l."customerId" = e."customerId" AND l.feature = e.feature AND l.kind = 'usage'
          AND l."occurredAt" >= CASE WHEN ${WINDOWED} AND e."periodStart" IS NOT NULL
                                     THEN e."periodStart" ELSE '-infinity'::timestamp END
          AND l."occurredAt" < CASE WHEN ${WINDOWED} AND e."periodEnd" IS NOT NULL
                                    THEN e."periodEnd" ELSE 'infinity'::timestamp END) END
    )), '[]'::json)
   FROM entitlements e WHERE e."customerId" = c.id) AS entitlements
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS r(customer, features, n)
CROSS JOIN LATERAL (SELECT ${customerIdSql("r.customer")} AS id) c
WHERE c.id IS NOT NULL`;

type Millis = number | string | null;
type SubscriptionJson = Omit<
  SubscriptionState,
  | "cancelAt"
  | "endedAt"
  | "pauseCollection"
  | "currentPeriodStart"
  | "currentPeriodEnd"
  | "stripeCreated"
  | "unpaidSince"
  | "items"
> & {
  cancelAt: Millis;
  endedAt: Millis;
  pauseCollection: unknown;
  currentPeriodStart: Millis;
  currentPeriodEnd: Millis;
  stripeCreated: Millis;
  unpaidSince: Millis;
  items: (Omit<SubscriptionState["items"][number], "currentPeriodStart" | "currentPeriodEnd"> & {
    currentPeriodStart: Millis;
    currentPeriodEnd: Millis;
  })[];
};
type EntitlementJson = {
  feature: string;
  status: EntitlementStatus;
  limit: string | null;
  reset: string | null;
  periodStart: Millis;
  periodEnd: Millis;
  graceUntil: Millis;
  reason: string | null;
  source: string | null;
  used: string | null;
};
/** One read as the statement returns it: JSON aggregates, times as epoch milliseconds, decimals as strings. */
export type AccessStateRow = {
  stripeCustomerId: string;
  subscriptions: SubscriptionJson[];
  holds: { subscriptionId: string | null; reason: string; since: Millis }[];
  entitlements: EntitlementJson[];
};

const dateOf = (value: Millis): Date | null => (value === null ? null : new Date(Number(value)));

/** `pause_collection` as sync stores it: `{ behavior, resumesAt }` (or Stripe's snake_case / unix seconds). */
function pauseOf(value: unknown): SubscriptionState["pauseCollection"] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const pause = value as { behavior?: unknown; resumesAt?: unknown; resumes_at?: unknown };
  const resumes = pause.resumesAt ?? pause.resumes_at;
  const resumesAt =
    typeof resumes === "number"
      ? new Date(resumes * 1000)
      : typeof resumes === "string"
        ? new Date(resumes)
        : null;
  return {
    behavior: typeof pause.behavior === "string" ? pause.behavior : null,
    resumesAt: resumesAt === null || Number.isNaN(resumesAt.getTime()) ? null : resumesAt,
  };
}

async function loadAccessState(
  reader: AccessReader,
  customer: string,
  meteredFeatures: readonly string[],
): Promise<AccessState | null> {
  const row = await reader.read(customer, meteredFeatures);
  if (row === null) return null;
  const usedByFeature = new Map<string, string>();
  for (const entitlement of row.entitlements)
    if (entitlement.used !== null) usedByFeature.set(entitlement.feature, entitlement.used);
  return {
    stripeCustomerId: row.stripeCustomerId,
    subscriptions: row.subscriptions.map((sub) => ({
      ...sub,
      cancelAt: dateOf(sub.cancelAt),
      endedAt: dateOf(sub.endedAt),
      pauseCollection: pauseOf(sub.pauseCollection),
      currentPeriodStart: dateOf(sub.currentPeriodStart),
      currentPeriodEnd: dateOf(sub.currentPeriodEnd),
      stripeCreated: dateOf(sub.stripeCreated),
      unpaidSince: dateOf(sub.unpaidSince),
      items: sub.items.map((item) => ({
        ...item,
        currentPeriodStart: dateOf(item.currentPeriodStart),
        currentPeriodEnd: dateOf(item.currentPeriodEnd),
      })),
    })),
    holds: row.holds.map((hold) => ({ ...hold, since: dateOf(hold.since)! })),
    stored: row.entitlements.map((entitlement) => ({
      ...entitlement,
      periodStart: dateOf(entitlement.periodStart),
      periodEnd: dateOf(entitlement.periodEnd),
      graceUntil: dateOf(entitlement.graceUntil),
    })),
    usedByFeature,
  };
}

async function loadKnownAccessState(
  ctx: AppContext,
  reader: AccessReader,
  customer: string,
  meteredFeatures: readonly string[],
): Promise<AccessState> {
  const state = await loadAccessState(reader, customer, meteredFeatures);
  if (state !== null) return state;
  // Unknown: the same 404 (and message) as every other customer lookup. Found now: created since, read again.
  await requireCustomerId(ctx.db, customer);
  return (await loadAccessState(reader, customer, meteredFeatures))!;
}

/**
 * When the stored entitlements lag behind the decision as of now (a grace period or scheduled cancellation ran
 * out before its enforcement job), they are brought up to date and the change logged with cause
 * `check:access-api`; the answer is the one decided in that transaction.
 */
async function recordDecision(
  ctx: AppContext,
  stripeCustomerId: string,
  decision: EntitlementDecision,
  now: Date,
): Promise<EntitlementDecision> {
  try {
    return (await applyEntitlementsForCustomer(ctx, stripeCustomerId, { cause: ACCESS_CHECK_CAUSE }, { now }))
      .decision;
  } catch (error) {
    // The answer is already decided; failing to record it must not fail the product's request.
    ctx.logger.warn(
      { customer: stripeCustomerId, err: (error as Error).message },
      "entitlements not recorded",
    );
    return decision;
  }
}

async function usageOf(
  ctx: AppContext,
  stripeCustomerId: string,
  entitlement: FeatureEntitlement,
  stored: string | undefined,
): Promise<Quantity> {
  if (stored !== undefined) return new Quantity(stored);
  const windowed = entitlement.reset === "billing_period";
  const used = await loadUsageTotal(ctx.db, {
    customerId: stripeCustomerId,
    feature: entitlement.feature,
    from: windowed ? entitlement.periodStart : null,
    to: windowed ? entitlement.periodEnd : null,
  });
  return new Quantity(used.toString());
}

/**
 * Access to each of `features` (catalog definitions) for `customer` (Stripe id or the product's own id), decided
 * afresh as of now from the mirror, so access due to end by the clock ends on time, with usage of the current
 * period from the ledger. The common case (stored entitlements already agree) is one read and no write.
 */
export async function loadCustomerAccess(
  ctx: AppContext,
  reader: AccessReader,
  customer: string,
  features: readonly FeatureDefinition[],
  options: { now?: Date } = {},
): Promise<{ stripeCustomerId: string; access: FeatureAccess[] }> {
  const now = options.now ?? new Date();
  const metered = features.filter((definition) => definition.type === "metered").map(({ key }) => key);
  const state = await loadKnownAccessState(ctx, reader, customer, metered);
  const { stripeCustomerId, subscriptions, holds, stored } = state;
  let decision = decideEntitlements(ctx.catalog, subscriptions, now, holds);
  // Usage read with the stored windows holds only while the stored entitlements agree with the decision.
  let usedByFeature = state.usedByFeature;
  if (decideAccessChanges(stored, decision.features).length > 0) {
    decision = await recordDecision(ctx, stripeCustomerId, decision, now);
    usedByFeature = new Map();
  }
  const byFeature = new Map(decision.features.map((entitlement) => [entitlement.feature, entitlement]));
  const access = await Promise.all(
    features.map(async (definition) => {
      const entitlement = byFeature.get(definition.key);
      if (entitlement === undefined || !countsUsage(definition, entitlement))
        return decideFeatureAccess(definition, entitlement, null);
      const used = await usageOf(ctx, stripeCustomerId, entitlement, usedByFeature.get(definition.key));
      return decideFeatureAccess(definition, entitlement, used);
    }),
  );
  return { stripeCustomerId, access };
}
