import type { AppContext } from "../app-context.js";
import { customerIdSql, requireCustomerId } from "../customers/resolve-customer.js";
import { createPgPool, type PgPool } from "../db/pg-pool.js";
import { loadUsageTotal, usageTotalSql } from "../ledger/usage-totals.js";
import { createMicroBatch } from "../micro-batch.js";
import { decisionFingerprint } from "./access-decisions.js";
import { applyEntitlementsForCustomer } from "./apply-entitlements.js";
import type { FeatureDefinition, Reset } from "./catalog.js";
import { countsUsage, decideFeatureAccess, type FeatureAccess } from "./decide-access.js";
import {
  decideEntitlements,
  type EntitlementDecision,
  type EntitlementStatus,
  type FeatureEntitlement,
  REASONS,
  revokedEntitlement,
} from "./decide-entitlements.js";
import { loadHolds, loadSubscriptionStates } from "./load-entitlement-state.js";
import { normalizeDecimal, Quantity } from "./quantity.js";

export const ACCESS_CHECK_CAUSE = "check:access-api";

/**
 * The access API's reads. The stored entitlements are the decision as of the last change of its inputs
 * (access-decisions.ts), so a check reads the customer's stored rows and their usage in one plain-pg statement
 * and decides nothing. Only when the stored decision is not current (an input changed, the catalog changed, or
 * the clock passed a grace or cancellation end) does it decide afresh and record that, through Prisma.
 * Checks arriving in the same event-loop turn share one statement.
 */
export type AccessReader = {
  /** The customer's stored access to each of `features`, or null when `customer` names no customer. */
  read: (customer: string, features: readonly FeatureDefinition[]) => Promise<StoredAccess | null>;
  /**
   * Runs `decide` for a customer whose stored decision does not hold, unless one is already running in this
   * process for the same customer and catalog: checks arriving meanwhile share it instead of queueing on the
   * customer's lock one by one. Nothing is kept once it settles.
   */
  decideOnce: (key: string, decide: () => Promise<EntitlementDecision>) => Promise<EntitlementDecision>;
  close: () => Promise<void>;
};

export type AccessQueryable = Pick<PgPool, "query" | "end">;

/** One customer's stored decision and, for each feature asked about, what is stored for it. */
export type StoredAccess = {
  stripeCustomerId: string;
  /** No input changed since the stored rows were decided. */
  inputsCurrent: boolean;
  /** The fingerprint of the catalog and rules that decided them (null: never decided). */
  decidedWith: string | null;
  /** Their next clock-driven change (null: none ahead). */
  validUntil: Date | null;
  features: Map<string, StoredFeature>;
};

export type StoredFeature = {
  /** The stored entitlement row, if the feature ever had one. */
  entitlement: FeatureEntitlement | null;
  /** Decided revoked without ever having a row (e.g. an incomplete first payment): why. */
  revokedReason: string | null;
  /** Ledger total over the stored row's usage window (metered features with access only). */
  used: string | null;
};

export function createAccessReader(databaseUrl: string, poolSize = 10): AccessReader {
  const pool = createPgPool(databaseUrl, {
    max: poolSize,
    // Every read is key lookups, one plan whatever the keys and batch size: plan once per connection.
    sessionOptions: "-c plan_cache_mode=force_generic_plan",
  });
  return batchingReader(pool, poolSize);
}

/** Reads per statement; a read of every feature is a handful of (customer, feature) pairs. */
const MAX_READS_PER_STATEMENT = 64;

type Read = { customer: string; features: readonly FeatureDefinition[] };

/** Reads arriving while earlier ones are in flight go to Postgres together, one statement per batch. */
export function batchingReader(pool: AccessQueryable, maxInFlight = 10): AccessReader {
  const read = createMicroBatch<Read, StoredAccess | null>({
    maxBatchSize: MAX_READS_PER_STATEMENT,
    maxInFlight,
    run: async (reads) => {
      const customers: string[] = [];
      const features: string[] = [];
      const metered: boolean[] = [];
      const firstPair: number[] = [];
      for (const { customer, features: definitions } of reads) {
        firstPair.push(customers.length);
        for (const definition of definitions) {
          customers.push(customer);
          features.push(definition.key);
          metered.push(definition.type === "metered");
        }
      }
      const result = await pool.query<StoredPairRow>({
        name: "stored-access",
        text: STORED_ACCESS_SQL,
        values: [customers, features, metered],
      });
      const byPair = new Map(result.rows.map((row) => [Number(row.n) - 1, row]));
      return reads.map((one, index) => storedAccessOf(one, firstPair[index]!, byPair));
    },
  });
  const deciding = new Map<string, Promise<EntitlementDecision>>();
  return {
    decideOnce: (key, decide) => {
      const running = deciding.get(key);
      if (running !== undefined) return running;
      const decision = decide().finally(() => deciding.delete(key));
      deciding.set(key, decision);
      return decision;
    },
    read: async (customer, features) => {
      if (features.length === 0) throw new Error("an access read names at least one feature");
      return read({ customer, features });
    },
    close: () => pool.end(),
  };
}

// Mirrored times are UTC `timestamp`s; epoch milliseconds keep them exact whatever the session's time zone.
const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::bigint`;

/**
 * One row per pair `n` (1-based) of (customer, feature, metered), none for an unknown customer. The customer is
 * named as the API names it (Stripe id, or the product's id, resolved as resolveCustomerId does). Every read is
 * an index lookup (usage in the stored usage window: usage_rollups for its whole hours, the ledger for the rest).
 */
const STORED_ACCESS_SQL = `
SELECT r.n, c.id AS "stripeCustomerId",
  coalesce(a."decidedVersion" = a."inputsVersion", false) AS "inputsCurrent",
  a."decidedWith", ${ms('a."validUntil"')} AS "validUntil", a."revokedReasons" ->> r.feature AS "revokedReason",
  e.status, e."limit"::text AS "limit", e.reset, ${ms('e."periodStart"')} AS "periodStart",
  ${ms('e."periodEnd"')} AS "periodEnd", ${ms('e."graceUntil"')} AS "graceUntil", e.reason,
  CASE WHEN r.metered AND e.status <> 'revoked' THEN ${usageTotalSql(
    'e."customerId"',
    "e.feature",
    `CASE WHEN e.reset = 'billing_period' THEN e."periodStart" END`,
    `CASE WHEN e.reset = 'billing_period' THEN e."periodEnd" END`,
  )}::text END AS used
FROM unnest($1::text[], $2::text[], $3::boolean[]) WITH ORDINALITY AS r(customer, feature, metered, n)
-- OFFSET 0 keeps the planner from copying the resolution into every use of c.id (it would run it four times).
CROSS JOIN LATERAL (SELECT ${customerIdSql("r.customer")} AS id OFFSET 0) c
LEFT JOIN access_decisions a ON a."customerId" = c.id
LEFT JOIN entitlements e ON e."customerId" = c.id AND e.feature = r.feature
WHERE c.id IS NOT NULL`;

type Millis = number | string | null;
type StoredPairRow = {
  n: string;
  stripeCustomerId: string;
  inputsCurrent: boolean;
  decidedWith: string | null;
  validUntil: Millis;
  revokedReason: string | null;
  status: EntitlementStatus | null;
  limit: string | null;
  reset: Reset | null;
  periodStart: Millis;
  periodEnd: Millis;
  graceUntil: Millis;
  reason: string | null;
  used: string | null;
};

const dateOf = (value: Millis): Date | null => (value === null ? null : new Date(Number(value)));

function storedAccessOf(
  read: Read,
  firstPair: number,
  byPair: ReadonlyMap<number, StoredPairRow>,
): StoredAccess | null {
  const first = byPair.get(firstPair);
  if (first === undefined) return null;
  const features = new Map<string, StoredFeature>();
  for (const [offset, definition] of read.features.entries()) {
    const row = byPair.get(firstPair + offset)!;
    features.set(definition.key, {
      entitlement:
        row.status === null
          ? null
          : {
              feature: definition.key,
              status: row.status,
              limit: row.limit === null ? null : normalizeDecimal(row.limit),
              reset: row.reset,
              periodStart: dateOf(row.periodStart),
              periodEnd: dateOf(row.periodEnd),
              graceUntil: dateOf(row.graceUntil),
              reason: row.reason ?? REASONS.noPlanGrantsFeature,
              sourceSubscriptionIds: [],
            },
      revokedReason: row.revokedReason,
      used: row.used,
    });
  }
  return {
    stripeCustomerId: first.stripeCustomerId,
    inputsCurrent: first.inputsCurrent,
    decidedWith: first.decidedWith,
    validUntil: dateOf(first.validUntil),
    features,
  };
}

/** The stored rows answer for `now` only while their inputs, catalog and clock bound still hold. */
export function storedDecisionHolds(stored: StoredAccess, fingerprint: string, now: Date): boolean {
  return (
    stored.inputsCurrent &&
    stored.decidedWith === fingerprint &&
    (stored.validUntil === null || now < stored.validUntil)
  );
}

/** What a feature's answer is decided from, as stored: its row, else the reason it was decided revoked. */
function storedEntitlement(feature: string, stored: StoredFeature): FeatureEntitlement | undefined {
  if (stored.entitlement !== null) return stored.entitlement;
  if (stored.revokedReason === null) return undefined;
  return revokedEntitlement(feature, stored.revokedReason);
}

/**
 * The decision as of `now`, recorded (with cause `check:access-api`) so the stored rows answer the next checks.
 * If recording fails, the decision is still made, read-only, and the product still gets its answer.
 */
async function decideAndRecord(
  ctx: AppContext,
  stripeCustomerId: string,
  now: Date,
): Promise<EntitlementDecision> {
  try {
    const cause = { cause: ACCESS_CHECK_CAUSE };
    return (
      await applyEntitlementsForCustomer(ctx, stripeCustomerId, cause, { now, queueInBackground: true })
    ).decision;
  } catch (error) {
    ctx.logger.warn(
      { customer: stripeCustomerId, err: (error as Error).message },
      "entitlements not recorded",
    );
    const subscriptions = await loadSubscriptionStates(ctx.db, stripeCustomerId);
    const holds = await loadHolds(ctx.db, stripeCustomerId);
    return decideEntitlements(ctx.catalog, subscriptions, now, holds);
  }
}

async function usageOf(
  ctx: AppContext,
  stripeCustomerId: string,
  entitlement: FeatureEntitlement,
): Promise<Quantity> {
  const windowed = entitlement.reset === "billing_period";
  const used = await loadUsageTotal(ctx.db, {
    customerId: stripeCustomerId,
    feature: entitlement.feature,
    from: windowed ? entitlement.periodStart : null,
    to: windowed ? entitlement.periodEnd : null,
  });
  return new Quantity(used.toString());
}

/** Decided afresh as of `now` (the stored decision did not hold), with usage read for the decided windows. */
async function decidedAccess(
  ctx: AppContext,
  reader: AccessReader,
  stored: StoredAccess,
  features: readonly FeatureDefinition[],
  now: Date,
): Promise<FeatureAccess[]> {
  const { stripeCustomerId } = stored;
  const decision = await reader.decideOnce(`${stripeCustomerId} ${decisionFingerprint(ctx.catalog)}`, () =>
    decideAndRecord(ctx, stripeCustomerId, now),
  );
  const byFeature = new Map(decision.features.map((entitlement) => [entitlement.feature, entitlement]));
  return Promise.all(
    features.map(async (definition) => {
      const entitlement =
        byFeature.get(definition.key) ??
        // No plan grants it any more, but it once had a row: revoked, as applying the decision stores it.
        (stored.features.get(definition.key)?.entitlement
          ? revokedEntitlement(definition.key, REASONS.noPlanGrantsFeature)
          : undefined);
      if (entitlement === undefined || !countsUsage(definition, entitlement))
        return decideFeatureAccess(definition, entitlement, null);
      return decideFeatureAccess(
        definition,
        entitlement,
        await usageOf(ctx, stored.stripeCustomerId, entitlement),
      );
    }),
  );
}

async function readKnownCustomer(
  ctx: AppContext,
  reader: AccessReader,
  customer: string,
  features: readonly FeatureDefinition[],
): Promise<StoredAccess> {
  const stored = await reader.read(customer, features);
  if (stored !== null) return stored;
  // Unknown: the same 404 (and message) as every other customer lookup. Found now: created since, read again.
  await requireCustomerId(ctx.db, customer);
  return (await reader.read(customer, features))!;
}

/**
 * Access to each of `features` (catalog definitions) for `customer` (Stripe id or the product's own id) as of
 * now, with usage of the current period from the ledger. The common case (the stored decision holds) is one
 * read and no write; access due to end by the clock ends on time because the stored decision stops holding then.
 */
export async function loadCustomerAccess(
  ctx: AppContext,
  reader: AccessReader,
  customer: string,
  features: readonly FeatureDefinition[],
  options: { now?: Date } = {},
): Promise<{ stripeCustomerId: string; access: FeatureAccess[] }> {
  const now = options.now ?? new Date();
  const stored = await readKnownCustomer(ctx, reader, customer, features);
  const { stripeCustomerId } = stored;
  if (!storedDecisionHolds(stored, decisionFingerprint(ctx.catalog), now))
    return { stripeCustomerId, access: await decidedAccess(ctx, reader, stored, features, now) };
  const access = features.map((definition) => {
    const feature = stored.features.get(definition.key)!;
    const entitlement = storedEntitlement(definition.key, feature);
    if (entitlement === undefined || !countsUsage(definition, entitlement))
      return decideFeatureAccess(definition, entitlement, null);
    return decideFeatureAccess(definition, entitlement, new Quantity(feature.used ?? "0"));
  });
  return { stripeCustomerId, access };
}
