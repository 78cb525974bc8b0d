import type { Db } from "../../../src/db/client.js";
import { applyStripeEvent } from "../../../src/sync/apply-event.js";
import type { SyncOutcome } from "../../../src/sync/types.js";
import { createTestApp, type TestApp } from "../../support/app.js";
import { asStoredEvent, type Json } from "../../support/builders.js";

/** Metadata key the sync tests configure for the product's own customer id. */
export const EXTERNAL_ID_KEY = "supabase_org_id";

export type SyncHarness = TestApp & {
  /** Applies one event envelope the way the event processor does. */
  apply: (envelope: Json) => Promise<SyncOutcome>;
  resetMirrors: () => Promise<void>;
};

export async function createSyncHarness(): Promise<SyncHarness> {
  const testApp = await createTestApp({ env: { LEAKGUARD_CUSTOMER_ID_METADATA: EXTERNAL_ID_KEY } });
  const { ctx } = testApp;
  return {
    ...testApp,
    apply: (envelope) => applyStripeEvent(ctx, asStoredEvent(envelope), ctx.logger),
    resetMirrors: () => truncateMirrors(testApp.db),
  };
}

async function truncateMirrors(db: Db): Promise<void> {
  await db.$executeRawUnsafe(
    `TRUNCATE customers, subscriptions, subscription_items, prices, invoices, invoice_lines, entitlements, access_log`,
  );
}

/** A subscription's row and items as stored, for before/after comparisons. */
export async function loadSubscription(db: Db, id: string) {
  return db.subscription.findUnique({ where: { id }, include: { items: { orderBy: { id: "asc" } } } });
}

export async function loadInvoice(db: Db, id: string) {
  return db.invoice.findUnique({ where: { id }, include: { lines: { orderBy: { id: "asc" } } } });
}
