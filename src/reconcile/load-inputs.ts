import type { AppContext } from "../app-context.js";
import type { Prisma } from "../db/client.js";
import type { Catalog } from "../entitlements/catalog.js";
import { loadUsageTotals } from "../ledger/usage-totals.js";
import { mapConcurrently } from "../map-concurrently.js";
import {
  fetchInvoicesCreated,
  fetchMeterEventNames,
  fetchPrice,
  fetchStartedAt,
  fetchSubscriptionsOf,
  STRIPE_READ_CONCURRENCY,
  type UnreadableObject,
} from "../stripe/fetchers.js";
import type * as StripeSnapshot from "../stripe/normalize/index.js";
import { saveFetchedInvoices } from "../sync/save-fetched.js";
import { findAccessWindows, findLapsedSubscriptionIds } from "./checks/access-not-revoked.js";
import { findMeteredLines } from "./checks/billing-mismatch.js";
import { loadMirroredSubscriptions } from "./load-mirrored-subscriptions.js";
import type { PriceTier, TransformQuantity } from "./pricing.js";
import type {
  EntitlementSnapshot,
  FeatureBilling,
  InvoiceLineSnapshot,
  InvoiceSnapshot,
  MirroredSubscription,
  PriceSnapshot,
  SubscriptionSnapshot,
} from "./snapshots.js";
import { type UsageWindow, uniqueWindows, usageWindowKey } from "./usage-windows.js";

/** Everything the checks decide on, read before any decision (load -> decide -> apply). */
export type ReconcileInputs = {
  features: FeatureBilling[];
  meterEventNames: Map<string, string>;
  invoices: InvoiceSnapshot[];
  prices: Map<string, PriceSnapshot>;
  entitlements: EntitlementSnapshot[];
  subscriptionsByCustomer: Map<string, SubscriptionSnapshot[]>;
  /** The same subscriptions as Stripe returned them, for enforcement to save into the mirror. */
  stripeSubscriptions: StripeSubscriptions;
  mirroredSubscriptions: Map<string, MirroredSubscription>;
  usage: Map<string, string>;
  periodTo: Date;
  fallbackCurrency: string;
  /** Stripe objects that could not be read: named in the progress output, never silently dropped. */
  unreadable: UnreadableObject[];
};

/** Every subscription of each judged customer as Stripe listed it (status=all), and when the listing started. */
export type StripeSubscriptions = {
  fetchedAt: Date;
  byCustomer: Map<string, StripeSnapshot.SubscriptionSnapshot[]>;
};

export type Progress = (message: string) => void;

// Stripe's own default; only used for a finding or an empty report with no currency to take from.
const DEFAULT_CURRENCY = "usd";

export async function loadReconcileInputs(
  ctx: AppContext,
  period: { from: Date; to: Date },
  progress: Progress,
): Promise<ReconcileInputs> {
  const features = featureBillingOf(ctx.catalog);
  const meterEventNames = await fetchMeterEventNames(ctx.stripe);
  progress(`${meterEventNames.size} Stripe meter(s), ${features.length} metered feature(s) in the catalog`);

  const { invoices, unreadable } = await loadInvoices(ctx, period, progress);
  const entitlements = await loadHeldEntitlements(ctx);
  const customers = [...new Set(entitlements.map((entitlement) => entitlement.customerId))].sort();
  const subscriptionsFetchedAt = fetchStartedAt();
  const fetched = await mapConcurrently(customers, STRIPE_READ_CONCURRENCY, (customer) =>
    fetchSubscriptionsOf(ctx.stripe, customer),
  );
  const subscriptionsByCustomer = new Map(
    customers.map((customer, index) => [customer, fetched[index]!.map(fromStripeSubscription)]),
  );
  progress(`${entitlements.length} entitlement(s) with access held by ${customers.length} customer(s)`);

  const prices = await loadPrices(
    ctx,
    invoices,
    [...subscriptionsByCustomer.values()].flat(),
    fetched.flat(),
  );
  const inputs = {
    features,
    meterEventNames,
    invoices,
    prices,
    entitlements,
    subscriptionsByCustomer,
    periodTo: period.to,
    fallbackCurrency: mostCommonCurrency(invoices) ?? DEFAULT_CURRENCY,
  };
  const windows = uniqueWindows([
    ...findMeteredLines(inputs).map((line) => line.window),
    ...findAccessWindows(inputs),
  ]);
  const usage = await loadUsage(ctx, windows);
  progress(`ledger usage read for ${windows.length} customer, feature and period window(s)`);
  const mirroredSubscriptions = await loadMirroredSubscriptions(ctx.db, findLapsedSubscriptionIds(inputs));
  const stripeSubscriptions = {
    fetchedAt: subscriptionsFetchedAt,
    byCustomer: new Map(customers.map((customer, index) => [customer, fetched[index]!])),
  };
  return { ...inputs, usage, unreadable, mirroredSubscriptions, stripeSubscriptions };
}

/** The catalog's metered features and how Stripe bills each (meter event name, or an explicit price). */
function featureBillingOf(catalog: Catalog): FeatureBilling[] {
  return Object.values(catalog.features).flatMap((feature) =>
    feature.type === "metered"
      ? [
          {
            feature: feature.key,
            meterEventName: feature.stripeMeterEventName,
            stripePriceId: feature.stripePrice,
          },
        ]
      : [],
  );
}

/**
 * Stripe creates an invoice when its lines' period ends, so invoices billing usage in [from, to) are created from
 * `from` until a billing period after `to`; a month and a few days covers monthly billing (longer intervals rely
 * on the mirror).
 */
const INVOICE_LOOKAHEAD_MS = 35 * 24 * 60 * 60 * 1000;

/**
 * Invoices with a line whose period overlaps [from, to), read from the mirror after saving Stripe's invoice list into
 * it, so an invoice whose webhook never arrived still counts (the mirror guard keeps whichever copy is newer).
 */
async function loadInvoices(
  ctx: AppContext,
  period: { from: Date; to: Date },
  progress: Progress,
): Promise<{ invoices: InvoiceSnapshot[]; unreadable: UnreadableObject[] }> {
  const fetched = await fetchInvoicesCreated(ctx.stripe, {
    from: period.from,
    to: new Date(period.to.getTime() + INVOICE_LOOKAHEAD_MS),
  });
  const fetchedIds = fetched.invoices
    .filter((invoice) => invoice.lines.some((line) => overlaps(line, period)))
    .map((invoice) => invoice.stripeInvoiceId);
  const alreadyMirrored = await ctx.db.invoice.count({ where: { id: { in: fetchedIds } } });
  await saveFetchedInvoices(ctx, fetched);
  const rows = await ctx.db.invoice.findMany({
    where: { lines: { some: { periodStart: { lt: period.to }, periodEnd: { gt: period.from } } } },
    include: { lines: { orderBy: { id: "asc" } } },
    orderBy: { id: "asc" },
  });
  const onlyInStripe = fetchedIds.length - alreadyMirrored;
  progress(
    `${rows.length} invoice(s): ${rows.length - onlyInStripe} from the mirror, ${fetchedIds.length} from Stripe (${onlyInStripe} missing from the mirror)`,
  );
  for (const object of fetched.unreadable) {
    progress(`skipped unreadable Stripe object ${object.id}: ${object.reason}`);
  }
  return { invoices: rows.map(fromMirrorInvoice), unreadable: fetched.unreadable };
}

function overlaps(
  line: { periodStart: Date | null; periodEnd: Date | null },
  period: { from: Date; to: Date },
): boolean {
  return (
    line.periodStart !== null &&
    line.periodEnd !== null &&
    line.periodStart < period.to &&
    line.periodEnd > period.from
  );
}

async function loadHeldEntitlements(ctx: AppContext): Promise<EntitlementSnapshot[]> {
  const rows = await ctx.db.entitlement.findMany({
    where: { status: { in: ["active", "grace"] } },
    orderBy: [{ customerId: "asc" }, { feature: "asc" }],
  });
  return rows.map((row) => ({
    customerId: row.customerId,
    feature: row.feature,
    status: row.status,
    source: row.source,
  }));
}

/**
 * Every price a line or subscription item names: the mirror first, then the price embedded in a fetched
 * subscription item, then Stripe itself (with tiers) for any still unknown or tiered without its tiers.
 */
async function loadPrices(
  ctx: AppContext,
  invoices: readonly InvoiceSnapshot[],
  subscriptions: readonly SubscriptionSnapshot[],
  stripeSubscriptions: readonly StripeSnapshot.SubscriptionSnapshot[],
): Promise<Map<string, PriceSnapshot>> {
  const ids = new Set<string>();
  for (const invoice of invoices)
    for (const line of invoice.lines) if (line.priceId !== null) ids.add(line.priceId);
  for (const subscription of subscriptions) for (const item of subscription.items) ids.add(item.priceId);

  const prices = new Map<string, PriceSnapshot>();
  const rows = await ctx.db.price.findMany({ where: { id: { in: [...ids] } } });
  for (const row of rows) prices.set(row.id, fromMirrorPrice(row));
  for (const item of stripeSubscriptions.flatMap((subscription) => subscription.items)) {
    if (item.price !== null && !prices.has(item.price.stripePriceId)) {
      prices.set(item.price.stripePriceId, fromStripePrice(item.price));
    }
  }
  const missing = [...ids].filter((id) => {
    const price = prices.get(id);
    return price === undefined || (price.billingScheme === "tiered" && price.tiers.length === 0);
  });
  const fetched = await mapConcurrently(missing, STRIPE_READ_CONCURRENCY, (id) => fetchPrice(ctx.stripe, id));
  for (const price of fetched) if (price !== null) prices.set(price.stripePriceId, fromStripePrice(price));
  return prices;
}

async function loadUsage(ctx: AppContext, windows: readonly UsageWindow[]): Promise<Map<string, string>> {
  const totals = await loadUsageTotals(ctx.db, windows);
  return new Map(windows.map((window, index) => [usageWindowKey(window), totals[index]!.toString()]));
}

function mostCommonCurrency(invoices: readonly InvoiceSnapshot[]): string | null {
  const counts = new Map<string, number>();
  for (const invoice of invoices) counts.set(invoice.currency, (counts.get(invoice.currency) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? null;
}

type MirrorInvoice = Prisma.InvoiceModel & { lines: Prisma.InvoiceLineModel[] };

function fromMirrorInvoice(row: MirrorInvoice): InvoiceSnapshot {
  return {
    id: row.id,
    customerId: row.customerId,
    subscriptionId: row.subscriptionId,
    status: row.status,
    currency: row.currency,
    createdAt: row.stripeCreated,
    lines: row.lines.map(
      (line): InvoiceLineSnapshot => ({
        id: stripeLineIdOf(row.id, line.id),
        priceId: line.priceId,
        subscriptionItemId: line.subscriptionItemId,
        quantity: line.quantity?.toString() ?? null,
        amountMinor: line.amount.toString(),
        unitAmountDecimal: line.unitAmountDecimal?.toString() ?? null,
        currency: line.currency,
        periodStart: line.periodStart,
        periodEnd: line.periodEnd,
        proration: line.proration,
      }),
    ),
  };
}

/** Stripe's own line id: the mirror prefixes a pre-2019-12-03 line id (not unique then) with its invoice's id. */
function stripeLineIdOf(stripeInvoiceId: string, lineRowId: string): string {
  const prefix = `${stripeInvoiceId}:`;
  return lineRowId.startsWith(prefix) ? lineRowId.slice(prefix.length) : lineRowId;
}

function fromStripeSubscription(subscription: StripeSnapshot.SubscriptionSnapshot): SubscriptionSnapshot {
  return {
    id: subscription.stripeSubscriptionId,
    customerId: subscription.stripeCustomerId,
    status: subscription.status,
    currency: subscription.items.find((item) => item.price !== null)?.price?.currency ?? null,
    canceledAt: subscription.canceledAt,
    endedAt: subscription.endedAt,
    items: subscription.items.map((item) => ({
      id: item.stripeSubscriptionItemId,
      priceId: item.stripePriceId,
    })),
  };
}

function fromStripePrice(price: StripeSnapshot.PriceSnapshot): PriceSnapshot {
  return {
    id: price.stripePriceId,
    currency: price.currency,
    billingScheme: price.billingScheme === "tiered" ? "tiered" : "per_unit",
    unitAmountDecimal: price.unitAmountDecimal,
    tiersMode: tiersModeOf(price.tiersMode),
    tiers: (price.tiers ?? []).map((tier) => ({
      upTo: tier.upTo === null ? null : String(tier.upTo),
      unitAmountDecimal: tier.unitAmountDecimal,
      flatAmountDecimal: tier.flatAmountDecimal,
    })),
    transformQuantity: transformOf(price.transformQuantity?.divideBy, price.transformQuantity?.round),
    productId: price.stripeProductId,
    meterId: price.stripeMeterId,
    usageType: price.usageType,
  };
}

/** The mirror stores tiers and transform_quantity in Stripe's own field names (see the sync price handler). */
function fromMirrorPrice(row: Prisma.PriceModel): PriceSnapshot {
  const tiers = Array.isArray(row.tiers) ? (row.tiers as Record<string, unknown>[]) : [];
  const transform = (row.transformQuantity ?? null) as Record<string, unknown> | null;
  return {
    id: row.id,
    currency: row.currency,
    billingScheme: row.billingScheme === "tiered" ? "tiered" : "per_unit",
    unitAmountDecimal: row.unitAmountDecimal?.toString() ?? row.unitAmount?.toString() ?? null,
    tiersMode: tiersModeOf(row.tiersMode),
    tiers: tiers.map(
      (tier): PriceTier => ({
        upTo: decimalOrNull(tier["up_to"]),
        unitAmountDecimal: decimalOrNull(tier["unit_amount_decimal"] ?? tier["unit_amount"]),
        flatAmountDecimal: decimalOrNull(tier["flat_amount_decimal"] ?? tier["flat_amount"]),
      }),
    ),
    transformQuantity: transformOf(transform?.["divide_by"], transform?.["round"]),
    productId: row.productId,
    meterId: row.meterId,
    usageType: row.usageType,
  };
}

function tiersModeOf(mode: string | null): "graduated" | "volume" | null {
  return mode === "graduated" || mode === "volume" ? mode : null;
}

function transformOf(divideBy: unknown, round: unknown): TransformQuantity | null {
  if (typeof divideBy !== "number") return null;
  return { divideBy, round: round === "up" ? "up" : "down" };
}

function decimalOrNull(value: unknown): string | null {
  if (typeof value === "number" || typeof value === "string") return String(value);
  return null;
}
