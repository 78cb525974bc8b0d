/**
 * Builders for Stripe JSON in either API shape, for tests that need variations of real payloads.
 *
 * - `shape: "basil"` (2025-03-31.basil and later, the default): billing periods on subscription items,
 *   `invoice.parent.subscription_details`, line `parent.subscription_item_details` and `pricing.price_details`.
 * - `shape: "legacy"` (before basil): periods on the subscription, `invoice.subscription`, line `subscription_item`,
 *   `price` and `plan` objects, `proration` and `type` on lines.
 *
 * Times are unix seconds (or Dates). Ids are generated unless given.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { StoredStripeEvent } from "../../src/sync/types.js";

export type ApiShape = "basil" | "legacy";
export type Json = Record<string, unknown>;
export type Time = number | Date;

/** 2026-01-01T00:00:00Z: a fixed default so that tests read the same on every run. */
export const BASE_TIME = 1_767_225_600;
const DAY = 86_400;
const MONTH = 30 * DAY;

export const API_VERSIONS: Record<ApiShape, string> = { basil: "2025-03-31.basil", legacy: "2024-06-20" };

let counter = 0;
const runTag = randomBytes(3).toString("hex");
/** A fresh Stripe-looking id, unique within the test run. */
export function stripeId(prefix: string): string {
  counter += 1;
  return `${prefix}_T${runTag}${counter.toString(36).padStart(4, "0")}`;
}

function unix(time: Time): number {
  return typeof time === "number" ? time : Math.floor(time.getTime() / 1000);
}

function unixOrNull(time: Time | null | undefined): number | null {
  return time === null || time === undefined ? null : unix(time);
}

// ---------------------------------------------------------------------------------------------------------------
// Customers

export type CustomerInput = {
  id?: string;
  email?: string | null;
  name?: string | null;
  metadata?: Record<string, string>;
  created?: Time;
};

export function aCustomer(input: CustomerInput = {}): Json {
  return {
    id: input.id ?? stripeId("cus"),
    object: "customer",
    balance: 0,
    created: unix(input.created ?? BASE_TIME),
    currency: "usd",
    delinquent: false,
    description: null,
    email: input.email === undefined ? "customer@example.com" : input.email,
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null },
    livemode: false,
    metadata: input.metadata ?? {},
    name: input.name === undefined ? "Test Customer" : input.name,
    preferred_locales: [],
    tax_exempt: "none",
  };
}

/** The stub some `customer.deleted` payloads carry instead of the whole customer. */
export function aDeletedCustomerStub(id: string): Json {
  return { id, object: "customer", deleted: true };
}

// ---------------------------------------------------------------------------------------------------------------
// Prices

export type TierInput = {
  up_to: number | null;
  unit_amount_decimal?: string | null;
  flat_amount_decimal?: string | null;
};

export type PriceInput = {
  id?: string;
  product?: string;
  currency?: string;
  /** Whole minor units; null for sub-cent prices (then give `unitAmountDecimal`). */
  unitAmount?: number | null;
  unitAmountDecimal?: string | null;
  interval?: "day" | "week" | "month" | "year" | null;
  usageType?: "licensed" | "metered";
  /** Billing meter id (basil metered prices). */
  meter?: string | null;
  billingScheme?: "per_unit" | "tiered";
  tiersMode?: "graduated" | "volume" | null;
  /** Present only when given, as Stripe includes tiers only when expanded. */
  tiers?: TierInput[];
  transformQuantity?: { divide_by: number; round: "up" | "down" } | null;
  lookupKey?: string | null;
  active?: boolean;
  created?: Time;
  shape?: ApiShape;
};

export function aPrice(input: PriceInput = {}): Json {
  const shape = input.shape ?? "basil";
  const unitAmount = input.unitAmount === undefined ? 1000 : input.unitAmount;
  const interval = input.interval === undefined ? "month" : input.interval;
  const usageType = input.usageType ?? "licensed";
  const recurring =
    interval === null
      ? null
      : shape === "basil"
        ? {
            interval,
            interval_count: 1,
            meter: input.meter ?? null,
            trial_period_days: null,
            usage_type: usageType,
          }
        : {
            aggregate_usage: usageType === "metered" ? "sum" : null,
            interval,
            interval_count: 1,
            trial_period_days: null,
            usage_type: usageType,
          };
  return {
    id: input.id ?? stripeId("price"),
    object: "price",
    active: input.active ?? true,
    billing_scheme: input.billingScheme ?? "per_unit",
    created: unix(input.created ?? BASE_TIME - 30 * DAY),
    currency: input.currency ?? "usd",
    livemode: false,
    lookup_key: input.lookupKey ?? null,
    metadata: {},
    nickname: null,
    product: input.product ?? stripeId("prod"),
    recurring,
    tax_behavior: "unspecified",
    tiers_mode: input.tiersMode ?? null,
    ...(input.tiers === undefined
      ? {}
      : {
          tiers: input.tiers.map((tier) => ({
            flat_amount: null,
            flat_amount_decimal: tier.flat_amount_decimal ?? null,
            unit_amount: null,
            unit_amount_decimal: tier.unit_amount_decimal ?? null,
            up_to: tier.up_to,
          })),
        }),
    transform_quantity: input.transformQuantity ?? null,
    type: interval === null ? "one_time" : "recurring",
    unit_amount: unitAmount,
    unit_amount_decimal: input.unitAmountDecimal ?? (unitAmount === null ? null : String(unitAmount)),
  };
}

/** The legacy `plan` twin Stripe sends beside `price` on items and lines. */
function planOf(price: Json): Json {
  const recurring = (price["recurring"] ?? {}) as Json;
  return {
    id: price["id"],
    object: "plan",
    active: price["active"],
    aggregate_usage: recurring["aggregate_usage"] ?? null,
    amount: price["unit_amount"],
    amount_decimal: price["unit_amount_decimal"],
    billing_scheme: price["billing_scheme"],
    created: price["created"],
    currency: price["currency"],
    interval: recurring["interval"] ?? "month",
    interval_count: 1,
    livemode: false,
    metadata: {},
    meter: recurring["meter"] ?? null,
    nickname: null,
    product: price["product"],
    tiers_mode: price["tiers_mode"],
    transform_usage: price["transform_quantity"],
    trial_period_days: null,
    usage_type: recurring["usage_type"] ?? "licensed",
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Subscriptions

export type SubscriptionItemInput = {
  id?: string;
  /** A built price (see `aPrice`) or the inputs for one. */
  price?: Json | PriceInput;
  quantity?: number | null;
  /** basil only: this item's own period (defaults to the subscription's). */
  currentPeriodStart?: Time;
  currentPeriodEnd?: Time;
};

export type SubscriptionStatus =
  | "incomplete"
  | "incomplete_expired"
  | "trialing"
  | "active"
  | "past_due"
  | "canceled"
  | "unpaid"
  | "paused";

export type SubscriptionInput = {
  id?: string;
  customer?: string;
  status?: SubscriptionStatus;
  shape?: ApiShape;
  created?: Time;
  currentPeriodStart?: Time;
  currentPeriodEnd?: Time;
  items?: SubscriptionItemInput[];
  cancelAtPeriodEnd?: boolean;
  cancelAt?: Time | null;
  canceledAt?: Time | null;
  endedAt?: Time | null;
  pauseCollection?: {
    behavior: "keep_as_draft" | "mark_uncollectible" | "void";
    resumes_at: number | null;
  } | null;
  metadata?: Record<string, string>;
};

/** A price given as built JSON is used as is; given as inputs, it is built in the caller's shape. */
function priceJson(price: Json | PriceInput | undefined, shape: ApiShape): Json {
  if (price !== undefined && (price as Json)["object"] === "price") return price as Json;
  return aPrice({ ...(price as PriceInput | undefined), shape });
}

export function aSubscription(input: SubscriptionInput = {}): Json {
  const shape = input.shape ?? "basil";
  const id = input.id ?? stripeId("sub");
  const status = input.status ?? "active";
  const created = unix(input.created ?? BASE_TIME);
  const periodStart = unix(input.currentPeriodStart ?? created);
  const periodEnd = unix(input.currentPeriodEnd ?? periodStart + MONTH);
  const ended = status === "canceled" || status === "incomplete_expired";
  const items = (input.items ?? [{}]).map((item) => {
    const price = priceJson(item.price, shape);
    return {
      id: item.id ?? stripeId("si"),
      object: "subscription_item",
      created,
      discounts: [],
      metadata: {},
      plan: planOf(price),
      price,
      quantity: item.quantity === undefined ? 1 : item.quantity,
      subscription: id,
      tax_rates: [],
      ...(shape === "basil"
        ? {
            current_period_start: unix(item.currentPeriodStart ?? periodStart),
            current_period_end: unix(item.currentPeriodEnd ?? periodEnd),
          }
        : { billing_thresholds: null }),
    };
  });
  return {
    id,
    object: "subscription",
    application: null,
    automatic_tax: { enabled: false, liability: null },
    billing_cycle_anchor: periodStart,
    cancel_at: unixOrNull(input.cancelAt),
    cancel_at_period_end: input.cancelAtPeriodEnd ?? false,
    canceled_at:
      input.canceledAt === undefined ? (ended ? periodStart + DAY : null) : unixOrNull(input.canceledAt),
    collection_method: "charge_automatically",
    created,
    currency: "usd",
    customer: input.customer ?? stripeId("cus"),
    days_until_due: null,
    default_payment_method: null,
    discounts: [],
    ended_at: input.endedAt === undefined ? (ended ? periodStart + DAY : null) : unixOrNull(input.endedAt),
    items: {
      object: "list",
      data: items,
      has_more: false,
      total_count: items.length,
      url: `/v1/subscription_items?subscription=${id}`,
    },
    latest_invoice: null,
    livemode: false,
    metadata: input.metadata ?? {},
    pause_collection: input.pauseCollection ?? null,
    pending_update: null,
    schedule: null,
    start_date: created,
    status,
    test_clock: null,
    trial_end: null,
    trial_start: null,
    ...(shape === "basil"
      ? { billing_mode: { type: "classic" } }
      : {
          current_period_start: periodStart,
          current_period_end: periodEnd,
          discount: null,
          billing_thresholds: null,
          ...(items.length === 1 ? { plan: items[0]!.plan, quantity: items[0]!.quantity } : {}),
        }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Invoices

export type InvoiceLineInput = {
  id?: string;
  /** Whole minor units. */
  amount?: number;
  currency?: string;
  price?: Json | PriceInput;
  quantity?: number | null;
  /** Decimal quantity (API versions that carry `quantity_decimal`). */
  quantityDecimal?: string;
  subscription?: string | null;
  subscriptionItem?: string | null;
  periodStart?: Time;
  periodEnd?: Time;
  proration?: boolean;
  description?: string;
};

export type InvoiceStatus = "draft" | "open" | "paid" | "uncollectible" | "void";

export type InvoiceInput = {
  id?: string;
  customer?: string;
  /** The subscription the invoice bills (null for a one-off invoice). */
  subscription?: string | null;
  status?: InvoiceStatus;
  shape?: ApiShape;
  currency?: string;
  total?: number;
  amountDue?: number;
  amountPaid?: number;
  periodStart?: Time;
  periodEnd?: Time;
  billingReason?: string;
  created?: Time;
  lines?: InvoiceLineInput[];
  /** Marks the embedded lines list as truncated (`has_more: true`). */
  linesHaveMore?: boolean;
};

export function anInvoiceLine(input: InvoiceLineInput = {}, shape: ApiShape = "basil"): Json {
  const price = priceJson(input.price, shape);
  const quantity = input.quantity === undefined ? 1 : input.quantity;
  const amount =
    input.amount ??
    (quantity === null || price["unit_amount"] === null ? 0 : quantity * Number(price["unit_amount"]));
  const subscription = input.subscription ?? null;
  const subscriptionItem =
    input.subscriptionItem === undefined ? (subscription ? stripeId("si") : null) : input.subscriptionItem;
  const proration = input.proration ?? false;
  const start = unix(input.periodStart ?? BASE_TIME);
  const end = unix(input.periodEnd ?? start + MONTH);
  const common = {
    id: input.id ?? stripeId("il"),
    object: "line_item",
    amount,
    currency: input.currency ?? String(price["currency"]),
    description: input.description ?? `${quantity ?? 0} × product`,
    discount_amounts: [],
    discountable: true,
    discounts: [],
    livemode: false,
    metadata: {},
    period: { start, end },
    quantity,
    ...(input.quantityDecimal === undefined ? {} : { quantity_decimal: input.quantityDecimal }),
  };
  if (shape === "basil") {
    const parent =
      subscriptionItem !== null
        ? {
            type: "subscription_item_details",
            invoice_item_details: null,
            subscription_item_details: {
              invoice_item: null,
              proration,
              proration_details: { credited_items: null },
              subscription,
              subscription_item: subscriptionItem,
            },
          }
        : {
            type: "invoice_item_details",
            invoice_item_details: {
              invoice_item: stripeId("ii"),
              proration,
              proration_details: { credited_items: null },
              subscription,
            },
            subscription_item_details: null,
          };
    return {
      ...common,
      parent,
      pretax_credit_amounts: [],
      pricing: {
        type: "price_details",
        price_details: { price: price["id"], product: price["product"] },
        unit_amount_decimal: price["unit_amount_decimal"],
      },
      taxes: [],
    };
  }
  return {
    ...common,
    invoice_item: subscriptionItem === null ? stripeId("ii") : null,
    plan: planOf(price),
    price,
    proration,
    proration_details: { credited_items: null },
    subscription,
    subscription_item: subscriptionItem,
    tax_amounts: [],
    tax_rates: [],
    type: subscriptionItem === null ? "invoiceitem" : "subscription",
  };
}

export function anInvoice(input: InvoiceInput = {}): Json {
  const shape = input.shape ?? "basil";
  const id = input.id ?? stripeId("in");
  const status = input.status ?? "paid";
  const subscription = input.subscription === undefined ? null : input.subscription;
  const currency = input.currency ?? "usd";
  const created = unix(input.created ?? BASE_TIME);
  const lines = (input.lines ?? [{ subscription }]).map((line) =>
    anInvoiceLine({ currency, subscription, ...line }, shape),
  );
  const lineTotal = lines.reduce((sum, line) => sum + Number(line["amount"]), 0);
  const total = input.total ?? lineTotal;
  const amountDue = input.amountDue ?? total;
  const amountPaid = input.amountPaid ?? (status === "paid" ? amountDue : 0);
  const common = {
    id,
    object: "invoice",
    account_country: "US",
    amount_due: amountDue,
    amount_paid: amountPaid,
    amount_remaining: amountDue - amountPaid,
    attempt_count: status === "draft" ? 0 : 1,
    attempted: status !== "draft",
    billing_reason: input.billingReason ?? (subscription === null ? "manual" : "subscription_cycle"),
    collection_method: "charge_automatically",
    created,
    currency,
    customer: input.customer ?? stripeId("cus"),
    discounts: [],
    lines: {
      object: "list",
      data: lines,
      has_more: input.linesHaveMore ?? false,
      total_count: lines.length,
      url: `/v1/invoices/${id}/lines`,
    },
    livemode: false,
    metadata: {},
    period_end: unix(input.periodEnd ?? created),
    period_start: unix(input.periodStart ?? created - MONTH),
    status,
    status_transitions: {
      finalized_at: status === "draft" ? null : created,
      marked_uncollectible_at: status === "uncollectible" ? created : null,
      paid_at: status === "paid" ? created : null,
      voided_at: status === "void" ? created : null,
    },
    subtotal: total,
    total,
    total_discount_amounts: [],
  };
  if (shape === "basil")
    return {
      ...common,
      parent:
        subscription === null
          ? null
          : {
              type: "subscription_details",
              quote_details: null,
              subscription_details: { metadata: {}, subscription },
            },
      total_taxes: [],
    };
  return {
    ...common,
    charge: null,
    discount: null,
    paid: status === "paid",
    paid_out_of_band: false,
    payment_intent: null,
    subscription,
    tax: null,
    total_tax_amounts: [],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Events

export type EventOptions = {
  id?: string;
  /** Defaults to the object's `created`, else BASE_TIME. */
  created?: Time;
  apiVersion?: string;
  previousAttributes?: Json;
};

/** A whole Stripe event envelope, as a webhook body carries it. */
export function anEvent(type: string, object: Json, options: EventOptions = {}): Json {
  const created = options.created ?? (typeof object["created"] === "number" ? object["created"] : BASE_TIME);
  const shape: ApiShape = "parent" in object || "billing_mode" in object ? "basil" : "legacy";
  return {
    id: options.id ?? stripeId("evt"),
    object: "event",
    api_version: options.apiVersion ?? API_VERSIONS[shape],
    created: unix(created),
    data: {
      object,
      ...(options.previousAttributes === undefined
        ? {}
        : { previous_attributes: options.previousAttributes }),
    },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
}

/** The event as ingest stores it and hands it to `applyStripeEvent`. */
export function asStoredEvent(envelope: Json): StoredStripeEvent {
  return {
    id: String(envelope["id"]),
    type: String(envelope["type"]),
    apiVersion: typeof envelope["api_version"] === "string" ? envelope["api_version"] : null,
    created: new Date(Number(envelope["created"]) * 1000),
    payload: envelope,
  };
}

/** The `data.object` of an envelope (for edits before re-wrapping). */
export function objectOf(envelope: Json): Json {
  return (envelope["data"] as Json)["object"] as Json;
}

// ---------------------------------------------------------------------------------------------------------------
// Real fixtures (copied under test/fixtures/stripe, sources in its SOURCES.md)

const FIXTURES = fileURLToPath(new URL("../fixtures/stripe/", import.meta.url));

/** Reads `events/<name>` or `objects/<name>` from test/fixtures/stripe. */
export function stripeFixture(path: string): Json {
  return JSON.parse(readFileSync(`${FIXTURES}${path}`, "utf8")) as Json;
}

/** File names under test/fixtures/stripe/<folder>, sorted. */
export function stripeFixtureNames(folder: "events" | "objects"): string[] {
  return readdirSync(`${FIXTURES}${folder}`)
    .filter((name) => name.endsWith(".json"))
    .sort();
}
