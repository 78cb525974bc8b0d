import type { AppContext } from "../app-context.js";
import { Prisma } from "../db/client.js";
import { decisionFingerprint, readInputsVersion, recordAccessDecision } from "./access-decisions.js";
import { type AccessChange, decideAccessChanges } from "./decide-access-changes.js";
import { decideEntitlements, type EntitlementDecision } from "./decide-entitlements.js";
import { type DbReader, loadHolds, loadSubscriptionStates } from "./load-entitlement-state.js";
import { enqueueEntitlementWebhooks, notifies } from "./outbound-webhooks.js";
import { scheduleEntitlementEnforcement } from "./schedule-enforcement.js";
import { entitlementSettingsOf } from "./settings.js";

/** Why entitlements were recomputed: `event:evt_...`, `job:...` or `check:...`, logged with every change. */
export type EntitlementCause = { cause: string; eventId?: string };

export type AppliedAccessChange = AccessChange & { accessLogId: string };

export type ApplyEntitlementsResult = {
  stripeCustomerId: string;
  decision: EntitlementDecision;
  changes: AppliedAccessChange[];
};

// Serializes recomputations of one customer across processes, so two never log the same change twice.
async function lockCustomer(tx: DbReader, stripeCustomerId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`entitlements:${stripeCustomerId}`}, 0))`;
}

const asDate = (value: string | null) => (value === null ? null : new Date(value));

async function saveAccessChange(
  tx: DbReader,
  stripeCustomerId: string,
  change: AccessChange,
  cause: EntitlementCause,
): Promise<AppliedAccessChange> {
  const { after } = change;
  const row = {
    status: after.status,
    limit: after.limit,
    reset: after.reset,
    periodStart: asDate(after.period_start),
    periodEnd: asDate(after.period_end),
    graceUntil: asDate(after.grace_until),
    reason: after.reason,
    source: after.source.length === 0 ? null : after.source.join(","),
  };
  await tx.entitlement.upsert({
    where: { customerId_feature: { customerId: stripeCustomerId, feature: change.feature } },
    create: { customerId: stripeCustomerId, feature: change.feature, ...row },
    update: row,
  });
  const log = await tx.accessLog.create({
    data: {
      customerId: stripeCustomerId,
      feature: change.feature,
      action: change.action,
      before: change.before ?? Prisma.DbNull,
      after,
      cause: cause.cause,
      eventId: cause.eventId ?? null,
    },
    select: { id: true },
  });
  return { ...change, accessLogId: log.id };
}

/** After the commit: the enforcement job at the next clock-driven change, and the outbound webhooks. */
async function queueFollowUps(
  ctx: AppContext,
  stripeCustomerId: string,
  decision: EntitlementDecision,
  changes: AppliedAccessChange[],
  now: Date,
): Promise<void> {
  if (decision.nextChangeAt !== null)
    await scheduleEntitlementEnforcement(ctx, stripeCustomerId, decision.nextChangeAt, now);
  const notifications = changes
    .filter((change) => notifies(change.action))
    .map((change) => change.accessLogId);
  if (entitlementSettingsOf(ctx.config).outbound === null || notifications.length === 0) return;
  try {
    await enqueueEntitlementWebhooks(ctx, notifications);
  } catch (error) {
    // The changes are committed; the webhook sweep queues what was not queued here.
    ctx.logger.warn(
      { customer: stripeCustomerId, err: (error as Error).message },
      "entitlement webhooks not queued",
    );
  }
}

/**
 * Recomputes a customer's entitlements from the subscription mirror and the catalog (load -> decide -> apply
 * in one transaction), logging every grant, change and revoke with its cause. Idempotent: when nothing
 * changed, nothing is written. Then queues the next clock-driven change, if there is one.
 */
export async function applyEntitlementsForCustomer(
  ctx: AppContext,
  stripeCustomerId: string,
  cause: EntitlementCause,
  options: { now?: Date; queueInBackground?: boolean } = {},
): Promise<ApplyEntitlementsResult> {
  const now = options.now ?? new Date();
  const { decision, changes } = await ctx.db.$transaction(
    async (tx) => {
      await lockCustomer(tx, stripeCustomerId);
      const inputsVersion = await readInputsVersion(tx, stripeCustomerId);
      const subscriptions = await loadSubscriptionStates(tx, stripeCustomerId);
      const holds = await loadHolds(tx, stripeCustomerId);
      const stored = await tx.entitlement.findMany({ where: { customerId: stripeCustomerId } });
      const decision = decideEntitlements(ctx.catalog, subscriptions, now, holds);
      const changes: AppliedAccessChange[] = [];
      for (const change of decideAccessChanges(stored, decision.features))
        changes.push(await saveAccessChange(tx, stripeCustomerId, change, cause));
      await recordAccessDecision(tx, stripeCustomerId, {
        inputsVersion,
        fingerprint: decisionFingerprint(ctx.catalog),
        decision,
        storedFeatures: new Set([...stored, ...changes].map((row) => row.feature)),
      });
      return { decision, changes };
    },
    { maxWait: 10_000, timeout: 30_000 },
  );
  if (changes.length > 0)
    ctx.logger.info(
      {
        customer: stripeCustomerId,
        cause: cause.cause,
        changes: changes.map((change) => `${change.action} ${change.feature} -> ${change.after.status}`),
      },
      "entitlements changed",
    );
  const queued = queueFollowUps(ctx, stripeCustomerId, decision, changes, now);
  if (!options.queueInBackground) {
    await queued;
    return { stripeCustomerId, decision, changes };
  }
  // A request does not wait on Redis (down, the client would hold the job until it is back). Without the job the
  // clock change is still made: the stored decision expires then, and the nightly check revokes.
  queued.catch((error: unknown) =>
    ctx.logger.warn(
      { customer: stripeCustomerId, err: (error as Error).message },
      "entitlement jobs not queued",
    ),
  );
  return { stripeCustomerId, decision, changes };
}
