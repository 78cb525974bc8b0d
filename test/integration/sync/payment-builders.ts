/**
 * Builders for the Stripe objects of payments that refunds, disputes and checkouts name: charges, refunds,
 * disputes, invoice payments and checkout sessions. Shapes follow the copied real payloads
 * (test/fixtures/stripe/events/*charge*, *refund*, *dispute*, *checkout*, *invoice_payment*).
 */
import { type ApiShape, BASE_TIME, type Json, stripeId, type Time } from "../../support/builders.js";

const unix = (time: Time) => (typeof time === "number" ? time : Math.floor(time.getTime() / 1000));

export type ChargeInput = {
  id?: string;
  customer?: string | null;
  /** Only the legacy shape names the invoice on the charge (basil removed `charge.invoice`). */
  invoice?: string | null;
  paymentIntent?: string | null;
  amount?: number;
  amountRefunded?: number;
  created?: Time;
  shape?: ApiShape;
};

export function aCharge(input: ChargeInput = {}): Json {
  const id = input.id ?? stripeId("ch");
  const amount = input.amount ?? 2500;
  const amountRefunded = input.amountRefunded ?? 0;
  return {
    id,
    object: "charge",
    amount,
    amount_captured: amount,
    amount_refunded: amountRefunded,
    balance_transaction: stripeId("txn"),
    captured: true,
    created: unix(input.created ?? BASE_TIME),
    currency: "usd",
    customer: input.customer === undefined ? stripeId("cus") : input.customer,
    description: "Subscription creation",
    disputed: false,
    livemode: false,
    metadata: {},
    paid: true,
    payment_intent: input.paymentIntent === undefined ? stripeId("pi") : input.paymentIntent,
    refunded: amountRefunded >= amount,
    refunds: { object: "list", data: [], has_more: false, total_count: 0, url: `/v1/charges/${id}/refunds` },
    status: "succeeded",
    ...((input.shape ?? "basil") === "legacy" ? { invoice: input.invoice ?? null } : {}),
  };
}

export type RefundInput = {
  id?: string;
  charge: string;
  paymentIntent?: string | null;
  amount?: number;
  status?: "pending" | "succeeded" | "failed" | "canceled";
  created?: Time;
};

export function aRefund(input: RefundInput): Json {
  return {
    id: input.id ?? stripeId("re"),
    object: "refund",
    amount: input.amount ?? 2500,
    balance_transaction: stripeId("txn"),
    charge: input.charge,
    created: unix(input.created ?? BASE_TIME),
    currency: "usd",
    metadata: {},
    payment_intent: input.paymentIntent ?? null,
    reason: null,
    status: input.status ?? "succeeded",
  };
}

export type DisputeStatus =
  | "needs_response"
  | "under_review"
  | "won"
  | "lost"
  | "warning_needs_response"
  | "warning_under_review"
  | "warning_closed";

export type DisputeInput = {
  id?: string;
  charge: string;
  paymentIntent?: string | null;
  status: DisputeStatus;
  amount?: number;
  created?: Time;
};

export function aDispute(input: DisputeInput): Json {
  return {
    id: input.id ?? stripeId("dp"),
    object: "dispute",
    amount: input.amount ?? 2500,
    balance_transactions: [],
    charge: input.charge,
    created: unix(input.created ?? BASE_TIME),
    currency: "usd",
    evidence_details: { due_by: unix(input.created ?? BASE_TIME) + 14 * 86_400, has_evidence: false },
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: input.paymentIntent ?? null,
    reason: "fraudulent",
    status: input.status,
  };
}

/** Stripe's answer to `GET /v1/invoice_payments?payment[payment_intent]=...`. */
export function anInvoicePaymentList(paymentIntent: string, invoice: string | null): Json {
  const data =
    invoice === null
      ? []
      : [
          {
            id: stripeId("inpay"),
            object: "invoice_payment",
            amount_paid: 2500,
            amount_requested: 2500,
            created: BASE_TIME,
            currency: "usd",
            invoice,
            is_default: true,
            livemode: false,
            payment: { type: "payment_intent", payment_intent: paymentIntent },
            status: "paid",
          },
        ];
  return { object: "list", data, has_more: false, url: "/v1/invoice_payments" };
}

export type CheckoutSessionInput = {
  id?: string;
  customer: string;
  subscription?: string | null;
  mode?: "payment" | "setup" | "subscription";
  created?: Time;
};

export function aCheckoutSession(input: CheckoutSessionInput): Json {
  const mode = input.mode ?? "subscription";
  return {
    id: input.id ?? stripeId("cs_test"),
    object: "checkout.session",
    amount_subtotal: 1000,
    amount_total: 1000,
    created: unix(input.created ?? BASE_TIME),
    currency: "usd",
    customer: input.customer,
    livemode: false,
    metadata: {},
    mode,
    payment_status: "paid",
    status: "complete",
    subscription: mode === "subscription" ? (input.subscription ?? null) : null,
  };
}
