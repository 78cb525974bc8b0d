import type { AppContext } from "../app-context.js";
import { mapConcurrently } from "../map-concurrently.js";
import type { Fetched, InvoiceSnapshot, SubscriptionSnapshot } from "../stripe/normalize/index.js";
import { saveInvoice } from "./invoice-mirror.js";
import type { EventVersion } from "./mirror-guard.js";
import { inMirrorTransaction } from "./mirror-transaction.js";
import type { MirrorWrite } from "./mirror-write.js";
import { saveSubscription } from "./subscription-mirror.js";

/** Stripe's current copy is the truth as of its read: only data newer than the read outranks it. */
function fetchedVersion(fetched: Fetched<unknown>): EventVersion {
  return { eventCreated: fetched.fetchedAt, eventId: null };
}

/** Saves a subscription read from Stripe's API through the mirror guard. Entitlements are the caller's to apply. */
export async function saveFetchedSubscription(
  ctx: AppContext,
  fetched: Fetched<SubscriptionSnapshot>,
): Promise<MirrorWrite> {
  return inMirrorTransaction(ctx.db, (tx) =>
    saveSubscription(tx, fetched.snapshot, fetchedVersion(fetched), "fetched"),
  );
}

/** Saves an invoice read from Stripe's API through the mirror guard. Entitlements are the caller's to apply. */
export async function saveFetchedInvoice(
  ctx: AppContext,
  fetched: Fetched<InvoiceSnapshot>,
): Promise<MirrorWrite> {
  return inMirrorTransaction(ctx.db, (tx) =>
    saveInvoice(tx, fetched.snapshot, fetchedVersion(fetched), "fetched"),
  );
}

export type SavedInvoices = {
  saved: number;
  /** A newer event than the read was already held. */
  skipped: number;
  /** Customers with an invoice whose status the save changed (their past_due grace may have moved). */
  changedCustomers: string[];
};

const SAVE_CONCURRENCY = 4;

/** Saves invoices listed from Stripe in one read (e.g. by reconciliation), so a missed invoice webhook fills in. */
export async function saveFetchedInvoices(
  ctx: AppContext,
  fetched: { invoices: readonly InvoiceSnapshot[]; fetchedAt: Date },
): Promise<SavedInvoices> {
  const writes = await mapConcurrently(fetched.invoices, SAVE_CONCURRENCY, (snapshot) =>
    saveFetchedInvoice(ctx, { snapshot, fetchedAt: fetched.fetchedAt }),
  );
  const saved = writes.filter((write) => write.decision.write).length;
  const changed = writes.filter((write) => write.changed).map((write) => write.stripeCustomerId);
  return { saved, skipped: writes.length - saved, changedCustomers: [...new Set(changed)].sort() };
}
