import { mapConcurrently } from "../map-concurrently.js";
import type { StripeClient } from "./client.js";
import {
  type ChargeSnapshot,
  type Fetched,
  type InvoiceSnapshot,
  type Normalized,
  normalizeCharge,
  normalizeInvoice,
  normalizeInvoiceLine,
  normalizePrice,
  normalizeSubscription,
  normalizeSubscriptionItem,
  type PriceSnapshot,
  readInvoiceOfInvoicePayment,
  type SubscriptionSnapshot,
} from "./normalize/index.js";

/**
 * Paginated reads of Stripe for reconciliation, returning our own snapshots. Each list is walked to its end with
 * the SDK's auto-pagination (100 a page); requests fanned out per object run a few at a time, and the SDK's retries
 * absorb Stripe's 429s.
 */

const PAGE = 100;
export const STRIPE_READ_CONCURRENCY = 4;

/** An object Stripe returned that the normalizers could not read: reported, never silently dropped. */
export type UnreadableObject = { id: string; reason: string };

/**
 * The SDK turns decimal strings into its own Decimal objects; a JSON round trip gives back the wire JSON the
 * version-aware normalizers read.
 */
export function wireJson(object: unknown): unknown {
  return JSON.parse(JSON.stringify(object));
}

function idOf(object: unknown): string {
  const id = (object as { id?: unknown } | null)?.id;
  return typeof id === "string" ? id : "(no id)";
}

/**
 * The time a read that starts now stands for: the end of the previous second. Stripe stamps events in whole
 * seconds, so an event stamped in the read's own second may have happened after it and must still count as newer.
 */
export function fetchStartedAt(now: Date = new Date()): Date {
  return new Date(Math.floor(now.getTime() / 1000) * 1000 - 1);
}

/** Invoices created in [from, to), every line included (lines past the embedded first page are listed too). */
export async function fetchInvoicesCreated(
  stripe: StripeClient,
  range: { from: Date; to: Date },
): Promise<{ invoices: InvoiceSnapshot[]; unreadable: UnreadableObject[]; fetchedAt: Date }> {
  const fetchedAt = fetchStartedAt();
  const created = { gte: unixSeconds(range.from), lt: unixSeconds(range.to) };
  const invoices: InvoiceSnapshot[] = [];
  const unreadable: UnreadableObject[] = [];
  const truncated: InvoiceSnapshot[] = [];
  for await (const raw of stripe.invoices.list({ created, limit: PAGE })) {
    const normalized = normalizeInvoice(wireJson(raw));
    if (!normalized.ok) {
      unreadable.push({ id: idOf(raw), reason: normalized.reason });
      continue;
    }
    invoices.push(normalized.value);
    if (!normalized.value.linesComplete) truncated.push(normalized.value);
  }
  await mapConcurrently(truncated, STRIPE_READ_CONCURRENCY, (invoice) =>
    completeLines(stripe, invoice, unreadable),
  );
  return { invoices, unreadable, fetchedAt };
}

/** Replaces a truncated embedded lines list with every line of the invoice. */
async function completeLines(
  stripe: StripeClient,
  invoice: InvoiceSnapshot,
  unreadable: UnreadableObject[],
): Promise<void> {
  const lines: InvoiceSnapshot["lines"] = [];
  for await (const raw of stripe.invoices.listLineItems(invoice.stripeInvoiceId, { limit: PAGE })) {
    const line = normalizeInvoiceLine(wireJson(raw), invoice.currency);
    if (!line.ok) {
      unreadable.push({ id: `${invoice.stripeInvoiceId}/${idOf(raw)}`, reason: line.reason });
      continue;
    }
    lines.push(line.value);
  }
  invoice.lines = lines;
  invoice.linesComplete = true;
}

/** Every meter, as meter id -> the event name usage is reported under. */
export async function fetchMeterEventNames(stripe: StripeClient): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for await (const meter of stripe.billing.meters.list({ limit: PAGE })) {
    names.set(meter.id, meter.event_name);
  }
  return names;
}

/** A price with its tiers (Stripe only sends them when expanded); null when Stripe does not know the id. */
export async function fetchPrice(stripe: StripeClient, stripePriceId: string): Promise<PriceSnapshot | null> {
  const raw = await retrieveOrNull(() => stripe.prices.retrieve(stripePriceId, { expand: ["tiers"] }));
  if (raw === null) return null;
  const normalized = normalizePrice(raw);
  if (!normalized.ok) throw new Error(`price ${stripePriceId} is unreadable: ${normalized.reason}`);
  return normalized.value;
}

/** All of a customer's subscriptions, ended ones included (status=all), each with all of its items. */
export async function fetchSubscriptionsOf(
  stripe: StripeClient,
  stripeCustomerId: string,
): Promise<SubscriptionSnapshot[]> {
  const subscriptions: SubscriptionSnapshot[] = [];
  for await (const raw of stripe.subscriptions.list({
    customer: stripeCustomerId,
    status: "all",
    limit: PAGE,
  })) {
    const normalized = await withAllItems(stripe, normalizeSubscription(wireJson(raw)));
    if (!normalized.ok) throw new Error(`subscription ${idOf(raw)} is unreadable: ${normalized.reason}`);
    subscriptions.push(normalized.value);
  }
  return subscriptions;
}

/**
 * Every subscription of the account, ended ones included (status=all), all pages, each with all of its items;
 * `fetchedAt` is when the listing started. An unreadable one comes back as a reason, so one odd object never stops
 * the walk.
 */
export function listAllSubscriptions(stripe: StripeClient): {
  fetchedAt: Date;
  subscriptions: AsyncGenerator<Normalized<SubscriptionSnapshot> & { id: string }>;
} {
  const fetchedAt = fetchStartedAt();
  async function* walk() {
    for await (const raw of stripe.subscriptions.list({ status: "all", limit: PAGE })) {
      const normalized = await withAllItems(stripe, normalizeSubscription(wireJson(raw)));
      yield { ...normalized, id: idOf(raw) };
    }
  }
  return { fetchedAt, subscriptions: walk() };
}

/** One subscription as Stripe has it now, every item included; null when Stripe does not know the id. */
export async function fetchSubscription(
  stripe: StripeClient,
  stripeSubscriptionId: string,
): Promise<Fetched<SubscriptionSnapshot> | null> {
  const fetchedAt = fetchStartedAt();
  const raw = await retrieveOrNull(() => stripe.subscriptions.retrieve(stripeSubscriptionId));
  if (raw === null) return null;
  const normalized = await withAllItems(stripe, normalizeSubscription(raw));
  if (!normalized.ok)
    throw new Error(`subscription ${stripeSubscriptionId} is unreadable: ${normalized.reason}`);
  return { snapshot: normalized.value, fetchedAt };
}

/** One invoice as Stripe has it now, every line included; null when Stripe does not know the id (a deleted draft). */
export async function fetchInvoice(
  stripe: StripeClient,
  stripeInvoiceId: string,
): Promise<Fetched<InvoiceSnapshot> | null> {
  const fetchedAt = fetchStartedAt();
  const raw = await retrieveOrNull(() => stripe.invoices.retrieve(stripeInvoiceId));
  if (raw === null) return null;
  const normalized = normalizeInvoice(raw);
  if (!normalized.ok) throw new Error(`invoice ${stripeInvoiceId} is unreadable: ${normalized.reason}`);
  const unreadable: UnreadableObject[] = [];
  if (!normalized.value.linesComplete) await completeLines(stripe, normalized.value, unreadable);
  if (unreadable.length > 0)
    throw new Error(`invoice ${stripeInvoiceId} has unreadable lines: ${unreadable[0]!.reason}`);
  return { snapshot: normalized.value, fetchedAt };
}

/** A charge with its refunded total and customer; null when Stripe does not know the id. */
export async function fetchCharge(
  stripe: StripeClient,
  stripeChargeId: string,
): Promise<ChargeSnapshot | null> {
  const raw = await retrieveOrNull(() => stripe.charges.retrieve(stripeChargeId));
  if (raw === null) return null;
  const normalized = normalizeCharge(raw);
  if (!normalized.ok) throw new Error(`charge ${stripeChargeId} is unreadable: ${normalized.reason}`);
  return normalized.value;
}

/**
 * The invoice a payment intent paid, through its invoice payments (from 2025-03-31.basil a charge no longer names
 * its invoice); null when the payment paid no invoice.
 */
export async function fetchInvoiceIdOfPaymentIntent(
  stripe: StripeClient,
  stripePaymentIntentId: string,
): Promise<string | null> {
  const page = await stripe.invoicePayments.list({
    payment: { type: "payment_intent", payment_intent: stripePaymentIntentId },
    limit: 10,
  });
  for (const payment of page.data) {
    const invoice = readInvoiceOfInvoicePayment(wireJson(payment));
    if (invoice !== null) return invoice;
  }
  return null;
}

/**
 * Replaces a truncated embedded items list with every item of the subscription, read by the same normalizer as
 * embedded items (an item with a value Stripe never sends refuses the subscription).
 */
async function withAllItems(
  stripe: StripeClient,
  normalized: Normalized<SubscriptionSnapshot>,
): Promise<Normalized<SubscriptionSnapshot>> {
  if (!normalized.ok || normalized.value.itemsComplete) return normalized;
  const subscription = normalized.value;
  const period = { start: subscription.currentPeriodStart, end: subscription.currentPeriodEnd };
  const items: SubscriptionSnapshot["items"] = [];
  for await (const raw of stripe.subscriptionItems.list({
    subscription: subscription.stripeSubscriptionId,
    limit: PAGE,
  })) {
    const item = normalizeSubscriptionItem(wireJson(raw), period);
    if (!item.ok)
      return { ok: false, reason: `subscription ${subscription.stripeSubscriptionId}: ${item.reason}` };
    items.push(item.value);
  }
  return { ok: true, value: { ...subscription, items, itemsComplete: true } };
}

export function unixSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/** Stripe's copy of one object as wire JSON; null when Stripe does not know the id. */
async function retrieveOrNull(retrieve: () => Promise<unknown>): Promise<unknown> {
  try {
    return wireJson(await retrieve());
  } catch (error) {
    if (isResourceMissing(error)) return null;
    throw error;
  }
}

function isResourceMissing(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "resource_missing";
}
