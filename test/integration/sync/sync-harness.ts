import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nock from "nock";
import type { Db } from "../../../src/db/client.js";
import { applyStripeEvent } from "../../../src/sync/apply-event.js";
import type { SyncOutcome } from "../../../src/sync/types.js";
import { createTestApp, type TestApp } from "../../support/app.js";
import { asStoredEvent, type Json } from "../../support/builders.js";

/** Metadata key the sync tests configure for the product's own customer id. */
export const EXTERNAL_ID_KEY = "supabase_org_id";
/** nock intercepts this host; nothing listens there. */
export const STRIPE_API_BASE = "http://stripe.sync.test";
/** The price the sync catalog grants features for. */
export const PRO_PRICE = "price_sync_pro";

/** Access that `PRO_PRICE` grants, so sync tests can watch entitlements follow the mirror. */
export const SYNC_CATALOG = {
  features: {
    api_calls: { type: "metered", stripe_meter_event_name: "api_calls" },
    sso: { type: "boolean" },
  },
  plans: [{ match: { price: PRO_PRICE }, grants: { sso: true, api_calls: { limit: 1000 } } }],
  grace: { past_due_days: 7 },
};

export type SyncHarness = TestApp & {
  /** Applies one event envelope the way the event processor does. */
  apply: (envelope: Json) => Promise<SyncOutcome>;
  resetMirrors: () => Promise<void>;
};

/** An app on its own database and queue prefix, Stripe's API faked by nock at STRIPE_API_BASE (no other network). */
export async function createSyncHarness(env: Record<string, string> = {}): Promise<SyncHarness> {
  const dir = mkdtempSync(join(tmpdir(), "leakguard-sync-"));
  const catalogPath = join(dir, "catalog.json");
  writeFileSync(catalogPath, JSON.stringify(SYNC_CATALOG));
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  const testApp = await createTestApp({
    env: {
      LEAKGUARD_CUSTOMER_ID_METADATA: EXTERNAL_ID_KEY,
      LEAKGUARD_CATALOG: catalogPath,
      STRIPE_API_BASE,
      ...env,
    },
  });
  const { ctx } = testApp;
  return {
    ...testApp,
    apply: (envelope) => applyStripeEvent(ctx, asStoredEvent(envelope), ctx.logger),
    resetMirrors: () => truncateMirrors(testApp.db),
    close: async () => {
      nock.cleanAll();
      nock.enableNetConnect();
      await testApp.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function truncateMirrors(db: Db): Promise<void> {
  await db.$executeRawUnsafe(
    `TRUNCATE customers, subscriptions, subscription_items, prices, invoices, invoice_lines, entitlements, access_log, entitlement_holds, access_decisions`,
  );
}

/** A subscription's row and items as stored, for before/after comparisons. */
export async function loadSubscription(db: Db, id: string) {
  return db.subscription.findUnique({ where: { id }, include: { items: { orderBy: { id: "asc" } } } });
}

export async function loadInvoice(db: Db, id: string) {
  return db.invoice.findUnique({ where: { id }, include: { lines: { orderBy: { id: "asc" } } } });
}

/** Access-log rows of one customer, oldest first. */
export async function loadAccessLog(db: Db, customerId: string) {
  return db.accessLog.findMany({ where: { customerId }, orderBy: { seq: "asc" } });
}
