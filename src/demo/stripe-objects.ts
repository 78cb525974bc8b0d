import type { StripeObject } from "./stripe-params.js";

/**
 * Builders for Stripe objects in the current API shape (basil and later: periods on subscription items,
 * `invoice.parent.subscription_details`, line `pricing.price_details` and `parent.subscription_item_details`).
 * Pure; used by the demo scenario, the stand-in and tests.
 */

export const DEMO_API_VERSION = "2026-11-18.endive";

export type CustomerInput = {
  id: string;
  created: number;
  email: string;
  name: string;
  metadata?: Record<string, string>;
};

export function aCustomer(input: CustomerInput): StripeObject {
  return {
    id: input.id,
    object: "customer",
    address: null,
    balance: 0,
    created: input.created,
    currency: "usd",
    default_source: null,
    delinquent: false,
    description: null,
    discount: null,
    email: input.email,
    invoice_prefix: input.id.slice(4, 12).toUpperCase(),
    invoice_settings: {
      custom_fields: null,
      default_payment_method: null,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata: input.metadata ?? {},
    name: input.name,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: "none",
    test_clock: null,
  };
}

export function aProduct(input: { id: string; name: string; created: number }): StripeObject {
  return {
    id: input.id,
    object: "product",
    active: true,
    created: input.created,
    default_price: null,
    description: null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: {},
    name: input.name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    type: "service",
    unit_label: null,
    updated: input.created,
    url: null,
  };
}

export type MeterInput = { id: string; eventName: string; displayName: string; created: number };

export function aMeter(input: MeterInput): StripeObject {
  return {
    id: input.id,
    object: "billing.meter",
    created: input.created,
    customer_mapping: { event_payload_key: "stripe_customer_id", type: "by_id" },
    default_aggregation: { formula: "sum" },
    display_name: input.displayName,
    event_name: input.eventName,
    event_time_window: null,
    livemode: false,
    status: "active",
    status_transitions: { deactivated_at: null },
    updated: input.created,
    value_settings: { event_payload_key: "value" },
  };
}

export type PriceInput = {
  id: string;
  product: string;
  currency: string;
  created: number;
  nickname: string;
  /** Minor units per unit, as Stripe's decimal string (sub-cent allowed). */
  unitAmountDecimal: string;
  /** Metered prices name their meter; licensed prices have none. */
  meter?: string;
  interval?: "day" | "week" | "month" | "year";
  intervalCount?: number;
};

export function aPrice(input: PriceInput): StripeObject {
  const whole = /^\d+$/.test(input.unitAmountDecimal);
  return {
    id: input.id,
    object: "price",
    active: true,
    billing_scheme: "per_unit",
    created: input.created,
    currency: input.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: null,
    metadata: {},
    nickname: input.nickname,
    product: input.product,
    recurring: {
      interval: input.interval ?? "month",
      interval_count: input.intervalCount ?? 1,
      meter: input.meter ?? null,
      trial_period_days: null,
      usage_type: input.meter === undefined ? "licensed" : "metered",
    },
    tax_behavior: "unspecified",
    tiers_mode: null,
    transform_quantity: null,
    type: "recurring",
    // Stripe leaves unit_amount null when the price needs sub-cent precision.
    unit_amount: whole ? Number(input.unitAmountDecimal) : null,
    unit_amount_decimal: input.unitAmountDecimal,
  };
}

export type SubscriptionItemInput = { id: string; price: StripeObject; quantity?: number };

export type SubscriptionInput = {
  id: string;
  customer: string;
  currency: string;
  created: number;
  status: "active" | "canceled" | "past_due" | "trialing";
  currentPeriodStart: number;
  currentPeriodEnd: number;
  items: SubscriptionItemInput[];
  canceledAt?: number;
  endedAt?: number;
  metadata?: Record<string, string>;
};

export function aSubscription(input: SubscriptionInput): StripeObject {
  return {
    id: input.id,
    object: "subscription",
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: input.currentPeriodStart,
    billing_cycle_anchor_config: null,
    billing_mode: { type: "flexible", flexible: { proration_discounts: "included" } },
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: input.canceledAt ?? null,
    cancellation_details: {
      comment: null,
      feedback: null,
      reason: input.canceledAt === undefined ? null : "cancellation_requested",
    },
    collection_method: "charge_automatically",
    created: input.created,
    currency: input.currency,
    customer: input.customer,
    customer_account: null,
    days_until_due: null,
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    ended_at: input.endedAt ?? null,
    invoice_settings: { account_tax_ids: null, issuer: { type: "self" } },
    items: {
      object: "list",
      data: input.items.map((item) => ({
        id: item.id,
        object: "subscription_item",
        billing_thresholds: null,
        created: input.created,
        current_period_end: input.currentPeriodEnd,
        current_period_start: input.currentPeriodStart,
        discounts: [],
        metadata: {},
        price: item.price,
        ...(item.price["recurring"] !== null &&
        (item.price["recurring"] as { usage_type?: string }).usage_type === "metered"
          ? {}
          : { quantity: item.quantity ?? 1 }),
        subscription: input.id,
        tax_rates: [],
      })),
      has_more: false,
      total_count: input.items.length,
      url: `/v1/subscription_items?subscription=${input.id}`,
    },
    latest_invoice: null,
    livemode: false,
    metadata: input.metadata ?? {},
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: {
      payment_method_options: null,
      payment_method_types: null,
      save_default_payment_method: "off",
    },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: input.created,
    status: input.status,
    test_clock: null,
    transfer_data: null,
    trial_end: null,
    trial_settings: { end_behavior: { missing_payment_method: "create_invoice" } },
    trial_start: null,
  };
}

export type InvoiceLineInput = {
  id: string;
  subscription: string;
  subscriptionItem: string;
  price: StripeObject;
  /** Whole units billed (Stripe's integer `quantity`; `quantity_decimal` carries the same value). */
  quantity: string;
  /** Minor units, already rounded the way Stripe rounds the line. */
  amount: number;
  periodStart: number;
  periodEnd: number;
  description: string;
};

export type InvoiceInput = {
  id: string;
  customer: string;
  customerEmail: string;
  customerName: string;
  subscription: string;
  currency: string;
  created: number;
  status: "draft" | "open" | "paid" | "void" | "uncollectible";
  billingReason:
    | "subscription_cycle"
    | "subscription_create"
    | "subscription_cycle_final"
    | "subscription_update";
  periodStart: number;
  periodEnd: number;
  number: string;
  lines: InvoiceLineInput[];
  finalizedAt: number;
  paidAt?: number;
};

export function anInvoiceLine(invoiceId: string, input: InvoiceLineInput): StripeObject {
  return {
    id: input.id,
    object: "line_item",
    amount: input.amount,
    currency: (input.price["currency"] as string) ?? "usd",
    description: input.description,
    discount_amounts: [],
    discountable: true,
    discounts: [],
    invoice: invoiceId,
    livemode: false,
    metadata: {},
    parent: {
      invoice_item_details: null,
      subscription_item_details: {
        invoice_item: null,
        proration: false,
        proration_details: { credited_items: null },
        subscription: input.subscription,
        subscription_item: input.subscriptionItem,
      },
      type: "subscription_item_details",
    },
    period: { end: input.periodEnd, start: input.periodStart },
    pretax_credit_amounts: [],
    pricing: {
      price_details: { price: input.price.id, product: input.price["product"] },
      type: "price_details",
      unit_amount_decimal: input.price["unit_amount_decimal"],
    },
    quantity: Number(input.quantity.split(".")[0]),
    quantity_decimal: input.quantity,
    subtotal: input.amount,
    taxes: [],
  };
}

export function anInvoice(input: InvoiceInput): StripeObject {
  const lines = input.lines.map((line) => anInvoiceLine(input.id, line));
  const total = input.lines.reduce((sum, line) => sum + line.amount, 0);
  const paid = input.status === "paid";
  return {
    id: input.id,
    object: "invoice",
    account_country: "US",
    account_name: "Demo AI Inc.",
    account_tax_ids: null,
    amount_due: total,
    amount_overpaid: 0,
    amount_paid: paid ? total : 0,
    amount_remaining: paid ? 0 : total,
    amount_shipping: 0,
    application: null,
    attempt_count: paid ? 1 : 0,
    attempted: paid,
    auto_advance: !paid,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: input.billingReason,
    collection_method: "charge_automatically",
    confirmation_secret: null,
    created: input.created,
    currency: input.currency,
    custom_fields: null,
    customer: input.customer,
    customer_account: null,
    customer_address: null,
    customer_email: input.customerEmail,
    customer_name: input.customerName,
    customer_phone: null,
    customer_shipping: null,
    customer_tax_exempt: "none",
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: input.finalizedAt,
    ending_balance: 0,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: "self" },
    last_finalization_error: null,
    latest_revision: null,
    lines: {
      object: "list",
      data: lines,
      has_more: false,
      total_count: lines.length,
      url: `/v1/invoices/${input.id}/lines`,
    },
    livemode: false,
    metadata: {},
    next_payment_attempt: null,
    number: input.number,
    on_behalf_of: null,
    parent: {
      quote_details: null,
      subscription_details: { metadata: {}, subscription: input.subscription },
      type: "subscription_details",
    },
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: input.periodEnd,
    period_start: input.periodStart,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: input.status,
    status_transitions: {
      finalized_at: input.finalizedAt,
      marked_uncollectible_at: null,
      paid_at: input.paidAt ?? null,
      voided_at: null,
    },
    subtotal: total,
    subtotal_excluding_tax: total,
    test_clock: null,
    total,
    total_discount_amounts: [],
    total_excluding_tax: total,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: input.finalizedAt,
  };
}

export type EventInput = {
  id: string;
  type: string;
  created: number;
  object: StripeObject;
  previousAttributes?: Record<string, unknown>;
};

/** A webhook Event envelope, as Stripe sends it to an endpoint pinned to the SDK's API version. */
export function anEvent(input: EventInput): StripeObject {
  return {
    id: input.id,
    object: "event",
    api_version: DEMO_API_VERSION,
    created: input.created,
    data: {
      object: input.object,
      ...(input.previousAttributes === undefined ? {} : { previous_attributes: input.previousAttributes }),
    },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: input.type,
  };
}
