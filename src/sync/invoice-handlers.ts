import { applyEntitlementsForCustomer } from "../entitlements/apply-entitlements.js";
import { fetchInvoice } from "../stripe/fetchers.js";
import type { InvoiceSnapshot } from "../stripe/normalize/index.js";
import { askStripe } from "./ask-stripe.js";
import { causeOf, type HandlerContext, outcomeOf, versionOf } from "./handler.js";
import { saveInvoice } from "./invoice-mirror.js";
import { inMirrorTransaction } from "./mirror-transaction.js";
import { saveFetchedInvoice } from "./save-fetched.js";
import type { SyncOutcome } from "./types.js";

/**
 * invoice.created / finalized / paid / payment_failed / payment_succeeded / updated / voided /
 * marked_uncollectible / deleted: each carries the whole invoice with its lines. A status change re-decides the
 * customer's access (the oldest open invoice anchors the past_due grace).
 */
export async function applyInvoiceEvent(
  handler: HandlerContext,
  invoice: InvoiceSnapshot,
): Promise<SyncOutcome> {
  const { ctx, event } = handler;
  const id = invoice.stripeInvoiceId;
  // A deleted draft keeps its row as a tombstone, so a late invoice.updated cannot bring it back.
  const snapshot = event.type === "invoice.deleted" ? { ...invoice, status: "deleted" } : invoice;
  const version = versionOf(event);
  let write = await inMirrorTransaction(ctx.db, (tx) => saveInvoice(tx, snapshot, version, "ask"));
  let detail = `invoice ${id} ${snapshot.status ?? "without status"}, ${snapshot.lines.length} line(s)${
    snapshot.linesComplete ? "" : " (list truncated)"
  }`;
  if (!write.decision.write && write.decision.ask) {
    const question = { object: "invoice" as const, id, reason: write.decision.reason };
    const truth = await askStripe(handler, question, () => fetchInvoice(ctx.stripe, id));
    if (truth === null) {
      write = await inMirrorTransaction(ctx.db, (tx) => saveInvoice(tx, snapshot, version, "rule"));
    } else {
      write = await saveFetchedInvoice(ctx, truth);
      detail = `invoice ${id} ${truth.snapshot.status ?? "without status"} as Stripe has it (${question.reason})`;
    }
  }
  if (write.changed) await applyEntitlementsForCustomer(ctx, write.stripeCustomerId, causeOf(event));
  return outcomeOf(write.decision, detail);
}

/** invoice.upcoming describes a future invoice that has no id yet. */
export function ignoreUpcomingInvoice(): SyncOutcome {
  return {
    status: "ignored",
    reason: "invoice.upcoming has no invoice id; nothing to mirror until it is created",
  };
}
