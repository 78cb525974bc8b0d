import {
  asRecord,
  inField,
  type JsonRecord,
  readAmount,
  readBoolean,
  readExpandableId,
  readString,
} from "./read.js";
import { readable, refusingInvalidValues, unreadable } from "./result.js";
import type {
  ChargeSnapshot,
  CheckoutSessionSnapshot,
  DisputeSnapshot,
  Normalized,
  RefundSnapshot,
} from "./types.js";

/** A Stripe charge of any API version (`amount_captured` arrived in 2019; before, a captured charge captured all). */
export function normalizeCharge(raw: unknown): Normalized<ChargeSnapshot> {
  return refusingInvalidValues("charge", raw, readCharge);
}

function readCharge(raw: unknown): Normalized<ChargeSnapshot> {
  const charge = asRecord(raw);
  if (charge === null) return unreadable("charge is not an object");
  const id = readString(charge, "id");
  if (id === null) return unreadable("charge has no id");
  const kind = readString(charge, "object");
  if (kind !== null && kind !== "charge") return unreadable(`${id} is a ${kind}, not a charge`);
  const currency = readString(charge, "currency");
  const amount = readAmount(charge, "amount");
  const amountRefunded = readAmount(charge, "amount_refunded");
  if (currency === null || amount === null || amountRefunded === null)
    return unreadable(`charge ${id} has no currency, amount or amount_refunded`);
  const captured = readAmount(charge, "amount_captured") ?? (readBoolean(charge, "captured") ? amount : 0n);
  return readable({
    stripeChargeId: id,
    stripeCustomerId: readExpandableId(charge, "customer"),
    stripeInvoiceId: readExpandableId(charge, "invoice"),
    stripePaymentIntentId: readExpandableId(charge, "payment_intent"),
    currency: currency.toLowerCase(),
    amountMinor: amount,
    amountCapturedMinor: captured,
    amountRefundedMinor: amountRefunded,
    refunded: readBoolean(charge, "refunded") ?? false,
  });
}

/** The charge a refund or dispute names, when the payload carries it expanded (an invalid value refuses all). */
function embeddedCharge(record: JsonRecord): ChargeSnapshot | null {
  const charge = asRecord(record["charge"]);
  if (charge === null) return null;
  const normalized = inField("charge", () => readCharge(charge));
  return normalized.ok ? normalized.value : null;
}

export function normalizeRefund(raw: unknown): Normalized<RefundSnapshot> {
  return refusingInvalidValues("refund", raw, readRefund);
}

function readRefund(raw: unknown): Normalized<RefundSnapshot> {
  const refund = asRecord(raw);
  if (refund === null) return unreadable("refund is not an object");
  const id = readString(refund, "id");
  if (id === null) return unreadable("refund has no id");
  const kind = readString(refund, "object");
  if (kind !== null && kind !== "refund") return unreadable(`${id} is a ${kind}, not a refund`);
  const amount = readAmount(refund, "amount");
  if (amount === null) return unreadable(`refund ${id} has no amount`);
  return readable({
    stripeRefundId: id,
    stripeChargeId: readExpandableId(refund, "charge"),
    stripePaymentIntentId: readExpandableId(refund, "payment_intent"),
    status: readString(refund, "status"),
    amountMinor: amount,
    charge: embeddedCharge(refund),
  });
}

export function normalizeDispute(raw: unknown): Normalized<DisputeSnapshot> {
  return refusingInvalidValues("dispute", raw, readDispute);
}

function readDispute(raw: unknown): Normalized<DisputeSnapshot> {
  const dispute = asRecord(raw);
  if (dispute === null) return unreadable("dispute is not an object");
  const id = readString(dispute, "id");
  if (id === null) return unreadable("dispute has no id");
  const kind = readString(dispute, "object");
  if (kind !== null && kind !== "dispute") return unreadable(`${id} is a ${kind}, not a dispute`);
  const status = readString(dispute, "status");
  if (status === null) return unreadable(`dispute ${id} has no status`);
  const amount = readAmount(dispute, "amount");
  if (amount === null) return unreadable(`dispute ${id} has no amount`);
  return readable({
    stripeDisputeId: id,
    stripeChargeId: readExpandableId(dispute, "charge"),
    stripePaymentIntentId: readExpandableId(dispute, "payment_intent"),
    status,
    amountMinor: amount,
    charge: embeddedCharge(dispute),
  });
}

export function normalizeCheckoutSession(raw: unknown): Normalized<CheckoutSessionSnapshot> {
  const session = asRecord(raw);
  if (session === null) return unreadable("checkout session is not an object");
  const id = readString(session, "id");
  if (id === null) return unreadable("checkout session has no id");
  const kind = readString(session, "object");
  if (kind !== null && kind !== "checkout.session")
    return unreadable(`${id} is a ${kind}, not a checkout session`);
  return readable({
    stripeCheckoutSessionId: id,
    mode: readString(session, "mode"),
    status: readString(session, "status"),
    stripeCustomerId: readExpandableId(session, "customer"),
    stripeSubscriptionId: readExpandableId(session, "subscription"),
  });
}

/** The invoice an `invoice_payment` settles. */
export function readInvoiceOfInvoicePayment(raw: unknown): string | null {
  return readExpandableId(asRecord(raw), "invoice");
}
