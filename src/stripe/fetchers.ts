import type { StripeClient } from "./client.js";
import {
  type InvoiceSnapshot,
  normalizeInvoice,
  normalizeInvoiceLine,
  normalizePrice,
  normalizeSubscription,
  type PriceSnapshot,
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
function wireJson(object: unknown): unknown {
  return JSON.parse(JSON.stringify(object));
}

function idOf(object: unknown): string {
  const id = (object as { id?: unknown } | null)?.id;
  return typeof id === "string" ? id : "(no id)";
}

/** Invoices created in [from, to), every line included (lines past the embedded first page are listed too). */
export async function fetchInvoicesCreated(
  stripe: StripeClient,
  range: { from: Date; to: Date },
): Promise<{ invoices: InvoiceSnapshot[]; unreadable: UnreadableObject[] }> {
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
  await mapConcurrently(truncated, STRIPE_READ_CONCURRENCY, async (invoice) => {
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
  });
  return { invoices, unreadable };
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
  let raw: unknown;
  try {
    raw = await stripe.prices.retrieve(stripePriceId, { expand: ["tiers"] });
  } catch (error) {
    if (isResourceMissing(error)) return null;
    throw error;
  }
  const normalized = normalizePrice(wireJson(raw));
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
    const normalized = normalizeSubscription(wireJson(raw));
    if (!normalized.ok) throw new Error(`subscription ${idOf(raw)} is unreadable: ${normalized.reason}`);
    const subscription = normalized.value;
    if (!subscription.itemsComplete) {
      const items: SubscriptionSnapshot["items"] = [];
      for await (const item of stripe.subscriptionItems.list({
        subscription: subscription.stripeSubscriptionId,
        limit: PAGE,
      })) {
        items.push({
          stripeSubscriptionItemId: item.id,
          stripePriceId: item.price.id,
          stripeProductId:
            typeof item.price.product === "string" ? item.price.product : item.price.product.id,
          quantity: item.quantity ?? null,
          currentPeriodStart: new Date(item.current_period_start * 1000),
          currentPeriodEnd: new Date(item.current_period_end * 1000),
          price: null,
        });
      }
      subscription.items = items;
      subscription.itemsComplete = true;
    }
    subscriptions.push(subscription);
  }
  return subscriptions;
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function unixSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

function isResourceMissing(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "resource_missing";
}
