import type { AppContext } from "../app-context.js";
import type { Logger } from "../config/logger.js";
import {
  type Normalized,
  normalizeCharge,
  normalizeCheckoutSession,
  normalizeCustomer,
  normalizeDispute,
  normalizeInvoice,
  normalizePrice,
  normalizeRefund,
  normalizeSubscription,
  readEventObject,
} from "../stripe/normalize/index.js";
import { applyCheckoutSessionEvent } from "./checkout-handlers.js";
import { applyCustomerEvent } from "./customer-handlers.js";
import type { HandlerContext } from "./handler.js";
import { applyInvoiceEvent, ignoreUpcomingInvoice } from "./invoice-handlers.js";
import { applyChargeRefundedEvent, applyDisputeEvent, applyRefundEvent } from "./payment-handlers.js";
import { applyPriceEvent } from "./price-handlers.js";
import { applySubscriptionEvent } from "./subscription-handlers.js";
import type { StoredStripeEvent, SyncOutcome } from "./types.js";

type Route = (handler: HandlerContext, object: unknown) => Promise<SyncOutcome>;

/** Reads the event's object into a snapshot, then hands it to the handler; an unreadable payload goes no further. */
function route<T>(
  normalize: (raw: unknown) => Normalized<T>,
  apply: (handler: HandlerContext, snapshot: T) => Promise<SyncOutcome>,
): Route {
  return async (handler, object) => {
    const snapshot = normalize(object);
    return snapshot.ok ? apply(handler, snapshot.value) : { status: "unsupported", reason: snapshot.reason };
  };
}

const customer = route(normalizeCustomer, applyCustomerEvent);
const subscription = route(normalizeSubscription, applySubscriptionEvent);
const invoice = route(normalizeInvoice, applyInvoiceEvent);
const price = route(normalizePrice, applyPriceEvent);
const refundedCharge = route(normalizeCharge, applyChargeRefundedEvent);
const refund = route(normalizeRefund, applyRefundEvent);
const dispute = route(normalizeDispute, applyDisputeEvent);
const checkout = route(normalizeCheckoutSession, applyCheckoutSessionEvent);

/** The one place that says which event types leakguard acts on; everything else is ignored. */
const ROUTES: Readonly<Record<string, Route>> = {
  "customer.created": customer,
  "customer.updated": customer,
  "customer.deleted": customer,
  "customer.subscription.created": subscription,
  "customer.subscription.updated": subscription,
  "customer.subscription.deleted": subscription,
  "customer.subscription.paused": subscription,
  "customer.subscription.resumed": subscription,
  "customer.subscription.pending_update_applied": subscription,
  "customer.subscription.pending_update_expired": subscription,
  "customer.subscription.trial_will_end": subscription,
  "invoice.created": invoice,
  "invoice.finalized": invoice,
  "invoice.paid": invoice,
  "invoice.payment_failed": invoice,
  "invoice.payment_succeeded": invoice,
  "invoice.updated": invoice,
  "invoice.voided": invoice,
  "invoice.marked_uncollectible": invoice,
  "invoice.deleted": invoice,
  "invoice.upcoming": async () => ignoreUpcomingInvoice(),
  "price.created": price,
  "price.updated": price,
  "charge.refunded": refundedCharge,
  "charge.refund.updated": refund,
  "refund.created": refund,
  "refund.updated": refund,
  "charge.dispute.created": dispute,
  "charge.dispute.updated": dispute,
  "charge.dispute.closed": dispute,
  "charge.dispute.funds_withdrawn": dispute,
  "charge.dispute.funds_reinstated": dispute,
  "checkout.session.completed": checkout,
};

/** Applies one stored Stripe event to the mirrors (dispatch by event type to one handler per family). */
export async function applyStripeEvent(
  ctx: AppContext,
  event: StoredStripeEvent,
  log: Logger,
): Promise<SyncOutcome> {
  const handle = Object.hasOwn(ROUTES, event.type) ? ROUTES[event.type] : undefined;
  if (handle === undefined)
    return { status: "ignored", reason: `leakguard does not mirror ${event.type} events` };
  const object = readEventObject(event.payload);
  if (!object.ok) return { status: "unsupported", reason: object.reason };
  return handle({ ctx, event, log }, object.value);
}
