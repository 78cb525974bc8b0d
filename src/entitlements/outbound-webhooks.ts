import { createHmac, timingSafeEqual } from "node:crypto";
import type { AppContext } from "../app-context.js";
import type { Db } from "../db/client.js";
import type { AccessAction } from "./decide-access-changes.js";
import { ENTITLEMENT_JOBS, entitlementQueue } from "./entitlement-queue.js";
import type { OutboundTarget } from "./settings.js";

/** Header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, the way Stripe signs its webhooks. */
export const OUTBOUND_SIGNATURE_HEADER = "leakguard-signature";

const EVENT_TYPES: Partial<Record<AccessAction, string>> = {
  grant: "entitlement.granted",
  revoke: "entitlement.revoked",
};

export function notifies(action: string): boolean {
  return EVENT_TYPES[action as AccessAction] !== undefined;
}

// Receivers may be down for a while: retry for about five hours before giving up.
const DELIVERY_JOB_OPTIONS = { attempts: 12, backoff: { type: "exponential", delay: 5000 } };
const DELIVERY_TIMEOUT_MS = 10_000;

export function signOutboundPayload(body: string, secret: string, timestampSeconds: number): string {
  const digest = createHmac("sha256", secret).update(`${timestampSeconds}.${body}`).digest("hex");
  return `t=${timestampSeconds},v1=${digest}`;
}

/** For receivers (and tests): is this body signed with `secret`, recently enough? */
export function verifyOutboundSignature(
  body: string,
  header: string,
  secret: string,
  options: { toleranceSeconds?: number; nowSeconds?: number } = {},
): boolean {
  const parts = new Map(header.split(",").map((part) => part.split("=", 2) as [string, string]));
  const timestamp = Number(parts.get("t"));
  const signature = parts.get("v1");
  if (!Number.isInteger(timestamp) || signature === undefined) return false;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signOutboundPayload(body, secret, timestamp).split("v1=")[1]!, "hex");
  const given = Buffer.from(signature, "hex");
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export type EntitlementWebhook = {
  id: string;
  type: string;
  created_at: string;
  data: {
    customer: string;
    customer_external_id: string | null;
    feature: string;
    before: unknown;
    after: unknown;
    cause: string;
    event_id: string | null;
  };
};

async function loadWebhook(
  db: Db,
  accessLogId: string,
): Promise<{ webhook: EntitlementWebhook; delivered: boolean } | null> {
  const row = await db.accessLog.findUnique({ where: { id: accessLogId } });
  const type = row === null ? undefined : EVENT_TYPES[row.action as AccessAction];
  if (row === null || type === undefined) return null;
  const customer = await db.customer.findUnique({
    where: { id: row.customerId },
    select: { externalId: true },
  });
  return {
    delivered: row.notifiedAt !== null,
    webhook: {
      id: row.id,
      type,
      created_at: row.createdAt.toISOString(),
      data: {
        customer: row.customerId,
        customer_external_id: customer?.externalId ?? null,
        feature: row.feature,
        before: row.before,
        after: row.after,
        cause: row.cause,
        event_id: row.eventId,
      },
    },
  };
}

/** Queues one delivery per grant/revoke; the job id makes a second enqueue of the same change a no-op. */
export async function enqueueEntitlementWebhooks(
  ctx: AppContext,
  accessLogIds: readonly string[],
): Promise<void> {
  for (const accessLogId of accessLogIds)
    await entitlementQueue(ctx).add(
      ENTITLEMENT_JOBS.deliverWebhook,
      { accessLogId },
      { ...DELIVERY_JOB_OPTIONS, jobId: `${ENTITLEMENT_JOBS.deliverWebhook}_${accessLogId}` },
    );
}

export type DeliveryOutcome = "delivered" | "already_delivered" | "not_a_notification";

/** POSTs one signed entitlement webhook; any answer but 2xx throws, so the queue retries it. */
export async function deliverEntitlementWebhook(
  ctx: AppContext,
  accessLogId: string,
  target: OutboundTarget,
): Promise<DeliveryOutcome> {
  const loaded = await loadWebhook(ctx.db, accessLogId);
  if (loaded === null) return "not_a_notification";
  if (loaded.delivered) return "already_delivered";
  const body = JSON.stringify(loaded.webhook);
  const response = await fetch(target.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      [OUTBOUND_SIGNATURE_HEADER]: signOutboundPayload(body, target.secret, Math.floor(Date.now() / 1000)),
      "leakguard-event-id": loaded.webhook.id,
      "user-agent": "leakguard-entitlements",
    },
    body,
    signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
  });
  await response.body?.cancel();
  if (!response.ok)
    throw new Error(`entitlement webhook ${loaded.webhook.id} refused: HTTP ${response.status}`);
  await ctx.db.accessLog.update({ where: { id: accessLogId }, data: { notifiedAt: new Date() } });
  return "delivered";
}

const SWEEP_AFTER_MS = 60_000;
const SWEEP_LOOKBACK_MS = 24 * 60 * 60_000;

/**
 * Re-queues grants and revokes of the last day whose webhook was never delivered nor queued (the process
 * stopped between the commit and the enqueue, or Redis was down).
 */
export async function sweepEntitlementWebhooks(ctx: AppContext, now = new Date()): Promise<number> {
  const rows = await ctx.db.accessLog.findMany({
    where: {
      notifiedAt: null,
      action: { in: Object.keys(EVENT_TYPES) },
      createdAt: {
        gte: new Date(now.getTime() - SWEEP_LOOKBACK_MS),
        lte: new Date(now.getTime() - SWEEP_AFTER_MS),
      },
    },
    select: { id: true },
    orderBy: { createdAt: "asc" },
    take: 1000,
  });
  await enqueueEntitlementWebhooks(
    ctx,
    rows.map((row) => row.id),
  );
  return rows.length;
}
