import {
  asRecord,
  inField,
  type JsonRecord,
  readAmount,
  readBoolean,
  readDecimalString,
  readExpandableId,
  readList,
  readString,
  readUnixTime,
} from "./read.js";
import { readable, refusingInvalidValues, unreadable } from "./result.js";
import type { InvoiceLineSnapshot, InvoiceSnapshot, Normalized } from "./types.js";

/**
 * A Stripe invoice of any API version. From 2025-03-31.basil the subscription link is under
 * `parent.subscription_details` and each line names its price under `pricing.price_details` and its subscription
 * item under `parent.subscription_item_details`; before, they were `subscription`, `price`/`plan` and
 * `subscription_item`. Each field is read from the shape present, basil first, so mixed payloads read too.
 */
export function normalizeInvoice(raw: unknown): Normalized<InvoiceSnapshot> {
  return refusingInvalidValues("invoice", raw, readInvoice);
}

function readInvoice(raw: unknown): Normalized<InvoiceSnapshot> {
  const invoice = asRecord(raw);
  if (invoice === null) return unreadable("invoice is not an object");
  const id = readString(invoice, "id");
  if (id === null) return unreadable("invoice has no id (an upcoming invoice is not a real invoice)");
  const kind = readString(invoice, "object");
  if (kind !== null && kind !== "invoice") return unreadable(`${id} is a ${kind}, not an invoice`);
  const stripeCustomerId = readExpandableId(invoice, "customer");
  if (stripeCustomerId === null) return unreadable(`invoice ${id} has no customer`);
  const currency = readString(invoice, "currency");
  if (currency === null) return unreadable(`invoice ${id} has no currency`);
  // A total is negative when credits exceed charges; what is due or paid never is.
  const total = readAmount(invoice, "total", "signed");
  const amountDue = readAmount(invoice, "amount_due");
  const amountPaid = readAmount(invoice, "amount_paid");
  if (total === null || amountDue === null || amountPaid === null)
    return unreadable(`invoice ${id} has no total, amount_due or amount_paid`);

  const lines: InvoiceLineSnapshot[] = [];
  const list = readList(invoice, "lines");
  for (const [index, entry] of (list?.data ?? []).entries()) {
    const line = inField(`lines.data[${index}]`, () => readInvoiceLine(entry, currency));
    if (!line.ok) return unreadable(`invoice ${id} line ${index}: ${line.reason}`);
    lines.push(line.value);
  }
  const subscriptionDetails = asRecord(asRecord(invoice["parent"])?.["subscription_details"] ?? null);

  return readable({
    stripeInvoiceId: id,
    stripeCustomerId,
    stripeSubscriptionId:
      readExpandableId(subscriptionDetails, "subscription") ?? readExpandableId(invoice, "subscription"),
    status: readString(invoice, "status"),
    currency: currency.toLowerCase(),
    totalMinor: total,
    amountDueMinor: amountDue,
    amountPaidMinor: amountPaid,
    periodStart: readUnixTime(invoice, "period_start"),
    periodEnd: readUnixTime(invoice, "period_end"),
    billingReason: readString(invoice, "billing_reason"),
    stripeCreated: readUnixTime(invoice, "created"),
    lines,
    linesComplete: list !== null && !list.hasMore,
  });
}

export function normalizeInvoiceLine(raw: unknown, invoiceCurrency: string): Normalized<InvoiceLineSnapshot> {
  return refusingInvalidValues("invoice line", raw, (line) => readInvoiceLine(line, invoiceCurrency));
}

function readInvoiceLine(raw: unknown, invoiceCurrency: string): Normalized<InvoiceLineSnapshot> {
  const line = asRecord(raw);
  if (line === null) return unreadable("not an object");
  const id = readString(line, "id");
  if (id === null) return unreadable("no id");
  // Credits and proration credits are negative lines (and may carry a negative unit amount); quantities never are.
  const amount = readAmount(line, "amount", "signed");
  if (amount === null) return unreadable(`${id} has no amount`);

  const parent = asRecord(line["parent"]);
  const subscriptionItemDetails = asRecord(parent?.["subscription_item_details"] ?? null);
  const parentType = readString(parent, "type");
  const details =
    (parentType === null ? null : asRecord(parent?.[parentType] ?? null)) ??
    subscriptionItemDetails ??
    asRecord(parent?.["invoice_item_details"] ?? null);

  const pricing = asRecord(line["pricing"]);
  const priceDetails = asRecord(pricing?.["price_details"] ?? null);
  const legacyPriceField = asRecord(line["price"]) !== null ? "price" : "plan";
  const legacyPrice: JsonRecord | null = asRecord(line[legacyPriceField]);
  const period = asRecord(line["period"]);

  return readable({
    stripeInvoiceLineId: id,
    stripeSubscriptionItemId:
      readExpandableId(subscriptionItemDetails, "subscription_item") ??
      readExpandableId(line, "subscription_item"),
    stripePriceId:
      readExpandableId(priceDetails, "price") ??
      readExpandableId(line, "price") ??
      readExpandableId(line, "plan"),
    stripeProductId: readExpandableId(priceDetails, "product") ?? readExpandableId(legacyPrice, "product"),
    quantity: readDecimalString(line, "quantity_decimal") ?? readDecimalString(line, "quantity"),
    amountMinor: amount,
    unitAmountDecimal:
      inField("pricing", () => readDecimalString(pricing, "unit_amount_decimal", "signed")) ??
      inField(legacyPriceField, () => readLegacyUnitAmount(legacyPrice)),
    currency: (readString(line, "currency") ?? invoiceCurrency).toLowerCase(),
    periodStart: inField("period", () => readUnixTime(period, "start")),
    periodEnd: inField("period", () => readUnixTime(period, "end")),
    proration: readBoolean(details, "proration") ?? readBoolean(line, "proration") ?? false,
    description: readString(line, "description"),
  });
}

/** The line's price (a plan's `amount_decimal`); an invoice item's inline price may be a negative credit. */
function readLegacyUnitAmount(price: JsonRecord | null): string | null {
  return (
    readDecimalString(price, "unit_amount_decimal", "signed") ??
    readDecimalString(price, "amount_decimal", "signed")
  );
}
