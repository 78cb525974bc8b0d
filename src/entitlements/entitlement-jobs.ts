import { z } from "zod";
import type { AppContext } from "../app-context.js";
import type { Logger } from "../config/logger.js";
import { DomainError } from "../errors.js";
import type { Job } from "../queue/queues.js";
import { applyEntitlementsForCustomer } from "./apply-entitlements.js";
import { ENTITLEMENT_JOBS, entitlementQueue } from "./entitlement-queue.js";
import { deliverEntitlementWebhook, sweepEntitlementWebhooks } from "./outbound-webhooks.js";
import { entitlementSettingsOf } from "./settings.js";

const enforceData = z.object({ stripeCustomerId: z.string().min(1), at: z.iso.datetime() });
const deliverData = z.object({ accessLogId: z.string().min(1) });

const SWEEP_EVERY_MS = 5 * 60_000;

export function isEntitlementJob(name: string): boolean {
  return (Object.values(ENTITLEMENT_JOBS) as string[]).includes(name);
}

/** The repeating sweep of undelivered entitlement webhooks (a job scheduler: once per period across workers). */
export async function scheduleEntitlementMaintenance(ctx: AppContext): Promise<void> {
  await entitlementQueue(ctx).upsertJobScheduler(
    ENTITLEMENT_JOBS.sweepWebhooks,
    { every: SWEEP_EVERY_MS },
    { name: ENTITLEMENT_JOBS.sweepWebhooks, opts: { attempts: 1 } },
  );
}

function parse<T>(schema: z.ZodType<T>, job: Job): T {
  const parsed = schema.safeParse(job.data);
  if (!parsed.success) throw new DomainError("invalid_job", `${job.name} ${job.id}: ${parsed.error.message}`);
  return parsed.data;
}

/** Runs one job of the entitlements layer. */
export async function processEntitlementJob(ctx: AppContext, job: Job, log: Logger): Promise<unknown> {
  switch (job.name) {
    case ENTITLEMENT_JOBS.enforce: {
      const { stripeCustomerId, at } = parse(enforceData, job);
      // A worker whose clock runs slightly behind still decides as of the boundary it was scheduled for.
      const now = new Date(Math.max(Date.now(), new Date(at).getTime()));
      const result = await applyEntitlementsForCustomer(
        ctx,
        stripeCustomerId,
        { cause: `job:${ENTITLEMENT_JOBS.enforce}:${job.id}` },
        { now },
      );
      log.info({ customer: stripeCustomerId, changes: result.changes.length }, "entitlements enforced");
      return { changes: result.changes.map((change) => `${change.action} ${change.feature}`) };
    }
    case ENTITLEMENT_JOBS.deliverWebhook: {
      const { accessLogId } = parse(deliverData, job);
      const target = entitlementSettingsOf(ctx.config).outbound;
      if (target === null) return { outcome: "outbound_webhooks_off" };
      const outcome = await deliverEntitlementWebhook(ctx, accessLogId, target);
      log.info({ access_log_id: accessLogId, outcome }, "entitlement webhook");
      return { outcome };
    }
    case ENTITLEMENT_JOBS.sweepWebhooks: {
      if (entitlementSettingsOf(ctx.config).outbound === null) return { queued: 0 };
      return { queued: await sweepEntitlementWebhooks(ctx) };
    }
    default:
      throw new DomainError("unknown_job", `entitlements job ${job.name} has no handler`);
  }
}
