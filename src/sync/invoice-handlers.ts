import type { InvoiceSnapshot } from "../stripe/normalize/index.js";
import { type HandlerContext, outcomeOf, versionOf } from "./handler.js";
import { decideInvoiceWrite, type EventVersion, type GuardDecision } from "./mirror-guard.js";
import { ensureCustomerRow, inMirrorTransaction, lockRow, type Tx } from "./mirror-transaction.js";
import type { SyncOutcome } from "./types.js";

/**
 * invoice.created / finalized / paid / payment_failed / payment_succeeded / updated / voided /
 * marked_uncollectible / deleted: each carries the whole invoice with its lines.
 */
export async function applyInvoiceEvent(
  handler: HandlerContext,
  invoice: InvoiceSnapshot,
): Promise<SyncOutcome> {
  const { ctx, event } = handler;
  // A deleted draft keeps its row as a tombstone, so a late invoice.updated cannot bring it back.
  const snapshot = event.type === "invoice.deleted" ? { ...invoice, status: "deleted" } : invoice;
  const decision = await inMirrorTransaction(ctx.db, (tx) => saveInvoice(tx, snapshot, versionOf(event)));
  return outcomeOf(
    decision,
    `invoice ${snapshot.stripeInvoiceId} ${snapshot.status ?? "without status"}, ${snapshot.lines.length} line(s)${
      snapshot.linesComplete ? "" : " (list truncated)"
    }`,
  );
}

/** invoice.upcoming describes a future invoice that has no id yet. */
export function ignoreUpcomingInvoice(): SyncOutcome {
  return {
    status: "ignored",
    reason: "invoice.upcoming has no invoice id; nothing to mirror until it is created",
  };
}

async function saveInvoice(tx: Tx, invoice: InvoiceSnapshot, version: EventVersion): Promise<GuardDecision> {
  const id = invoice.stripeInvoiceId;
  await ensureCustomerRow(tx, invoice.stripeCustomerId);
  await lockRow(tx, "invoices", id);
  const held = await tx.invoice.findUnique({ where: { id }, select: { eventCreated: true, status: true } });
  const decision = decideInvoiceWrite(held, { ...version, status: invoice.status });
  if (!decision.write) return decision;

  const row = {
    customerId: invoice.stripeCustomerId,
    subscriptionId: invoice.stripeSubscriptionId,
    status: invoice.status,
    currency: invoice.currency,
    total: invoice.totalMinor,
    amountDue: invoice.amountDueMinor,
    amountPaid: invoice.amountPaidMinor,
    periodStart: invoice.periodStart,
    periodEnd: invoice.periodEnd,
    billingReason: invoice.billingReason,
    stripeCreated: invoice.stripeCreated,
    eventCreated: version.eventCreated,
    eventId: version.eventId,
  };
  if (held === null) await tx.invoice.create({ data: { id, ...row } });
  else await tx.invoice.update({ where: { id }, data: row });

  const lineIds = invoice.lines.map((line) => lineRowId(id, line.stripeInvoiceLineId));
  // A truncated lines list (more than Stripe embeds) says nothing about the lines it left out.
  if (invoice.linesComplete)
    await tx.invoiceLine.deleteMany({ where: { invoiceId: id, id: { notIn: lineIds } } });
  for (const [index, line] of invoice.lines.entries()) {
    const lineRow = {
      invoiceId: id,
      subscriptionItemId: line.stripeSubscriptionItemId,
      priceId: line.stripePriceId,
      productId: line.stripeProductId,
      quantity: line.quantity,
      amount: line.amountMinor,
      unitAmountDecimal: line.unitAmountDecimal,
      currency: line.currency,
      periodStart: line.periodStart,
      periodEnd: line.periodEnd,
      proration: line.proration,
      description: line.description,
    };
    const lineId = lineIds[index]!;
    await tx.invoiceLine.upsert({
      where: { id: lineId },
      create: { id: lineId, ...lineRow },
      update: lineRow,
    });
  }
  return decision;
}

/**
 * Line ids are unique (`il_...`) from API version 2019-12-03 on; before, a subscription line carried the
 * subscription's id on every invoice, so such ids are kept unique by prefixing the invoice id.
 */
export function lineRowId(stripeInvoiceId: string, stripeLineId: string): string {
  return stripeLineId.startsWith("il_") ? stripeLineId : `${stripeInvoiceId}:${stripeLineId}`;
}
