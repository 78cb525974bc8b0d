import { markAccessInputsChanged } from "../entitlements/access-decisions.js";
import type { InvoiceSnapshot } from "../stripe/normalize/index.js";
import { decideInvoiceWrite, type EventVersion, type GuardMode } from "./mirror-guard.js";
import { ensureCustomerRow, lockRow, type Tx } from "./mirror-transaction.js";
import type { MirrorWrite } from "./mirror-write.js";

/** Creates or updates one invoice and its lines unless the guard refuses. Runs inside a mirror transaction. */
export async function saveInvoice(
  tx: Tx,
  invoice: InvoiceSnapshot,
  version: EventVersion,
  mode: GuardMode,
): Promise<MirrorWrite> {
  const id = invoice.stripeInvoiceId;
  await ensureCustomerRow(tx, invoice.stripeCustomerId);
  await lockRow(tx, "invoices", id);
  const held = await tx.invoice.findUnique({ where: { id }, select: { eventCreated: true, status: true } });
  const decision = decideInvoiceWrite(held, { ...version, status: invoice.status }, mode);
  const result = {
    decision,
    stripeCustomerId: invoice.stripeCustomerId,
    created: held === null,
    // Access depends on an invoice only through its status (the oldest open one anchors past_due grace).
    changed: decision.write && (held === null || held.status !== invoice.status),
    previousStatus: held?.status ?? null,
  };
  if (!decision.write) return result;

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
  // An open invoice anchors a past_due subscription's grace.
  await markAccessInputsChanged(tx, [invoice.stripeCustomerId]);

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
  return result;
}

/**
 * Line ids are unique (`il_...`) from API version 2019-12-03 on; before, a subscription line carried the
 * subscription's id on every invoice, so such ids are kept unique by prefixing the invoice id.
 */
export function lineRowId(stripeInvoiceId: string, stripeLineId: string): string {
  return stripeLineId.startsWith("il_") ? stripeLineId : `${stripeInvoiceId}:${stripeLineId}`;
}
