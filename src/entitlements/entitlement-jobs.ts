import { z } from "zod";
import type { AppContext } from "../app-context.js";
import type { Logger } from "../config/logger.js";
import { DomainError } from "../errors.js";
import type { Job } from "../queue/queues.js";
import { applyEntitlementsForCustomer } from "./apply-entitlements.js";
import { ENTITLEMENT_JOBS } from "./schedule-enforcement.js";

const enforceData = z.object({ stripeCustomerId: z.string().min(1), at: z.iso.datetime() });

export function isEntitlementJob(name: string): boolean {
  return (Object.values(ENTITLEMENT_JOBS) as string[]).includes(name);
}

/** Runs one job of the entitlements layer. */
export async function processEntitlementJob(ctx: AppContext, job: Job, log: Logger): Promise<unknown> {
  switch (job.name) {
    case ENTITLEMENT_JOBS.enforce: {
      const parsed = enforceData.safeParse(job.data);
      if (!parsed.success)
        throw new DomainError("invalid_job", `${job.name} ${job.id}: ${parsed.error.message}`);
      const { stripeCustomerId, at } = parsed.data;
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
    default:
      throw new DomainError("unknown_job", `entitlements job ${job.name} has no handler`);
  }
}
