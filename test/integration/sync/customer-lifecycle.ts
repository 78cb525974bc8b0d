/**
 * One customer's real life in 20 Stripe events, built from the builders: sign-up through checkout (created
 * incomplete, first invoice drafted, finalized and paid, activated), a profile change, an added item with its
 * proration invoice, a quantity change, a renewal that fails and is paid later (past_due, then active), a scheduled
 * cancellation that drops an item, and the deletion. Events of one object often share a second, as Stripe's do.
 */
import {
  aCustomer,
  anEvent,
  anInvoice,
  aPrice,
  aSubscription,
  BASE_TIME,
  type InvoiceStatus,
  type Json,
  type SubscriptionStatus,
} from "../../support/builders.js";
import { PRO_PRICE } from "./sync-harness.js";

export type CustomerLifecycle = {
  customerId: string;
  subscriptionId: string;
  events: Json[];
  /** Each object as Stripe has it after the last event (what a read of Stripe's API returns). */
  finalObjects: Map<string, Json>;
};

export type LifecycleOptions = {
  /** The failed renewal is paid in the second it failed: past_due and active share a second (a tie only Stripe settles). */
  recoveredInSameSecond?: boolean;
};

export function buildCustomerLifecycle(tag: string, options: LifecycleOptions = {}): CustomerLifecycle {
  const id = (prefix: string, name: string) => `${prefix}_${tag}_${name}`;
  const customerId = id("cus", "c");
  const subscriptionId = id("sub", "s");
  const pro = aPrice({ id: PRO_PRICE, product: "prod_sync_pro", unitAmount: 5000 });
  const seats = aPrice({ id: id("price", "seats"), product: id("prod", "seats"), unitAmount: 1000 });
  const proItem = { id: id("si", "pro"), price: pro };
  const seatItem = (quantity: number) => ({ id: id("si", "seats"), price: seats, quantity });

  const events: Json[] = [];
  const finalObjects = new Map<string, Json>();
  const push = (type: string, object: Json, offset: number) => {
    events.push(
      anEvent(type, object, {
        id: id("evt", String(events.length).padStart(2, "0")),
        created: BASE_TIME + offset,
      }),
    );
    finalObjects.set(String(object["id"]), object);
  };
  const subscription = (status: SubscriptionStatus, items: object[], extra: object = {}) =>
    aSubscription({
      id: subscriptionId,
      customer: customerId,
      status,
      created: BASE_TIME + 10,
      items,
      ...extra,
    });
  const invoice = (name: string, status: InvoiceStatus, created: number, lines: object[], reason: string) =>
    anInvoice({
      id: id("in", name),
      customer: customerId,
      subscription: subscriptionId,
      status,
      created: BASE_TIME + created,
      billingReason: reason,
      lines: lines.map((line, index) => ({ id: id("il", `${name}${index}`), ...line })),
    });
  const firstLines = [{ price: pro, subscriptionItem: proItem.id }];
  const prorationLines = [
    { price: seats, subscriptionItem: id("si", "seats"), quantity: 2, proration: true },
  ];
  const renewalLines = [
    { price: pro, subscriptionItem: proItem.id },
    { price: seats, subscriptionItem: id("si", "seats"), quantity: 3 },
  ];
  const recovery = options.recoveredInSameSecond ? 51 : 60;

  push("customer.created", aCustomer({ id: customerId, email: "first@example.com" }), 0);
  push("customer.subscription.created", subscription("incomplete", [proItem]), 10);
  push("invoice.created", invoice("first", "draft", 10, firstLines, "subscription_create"), 10);
  push("invoice.finalized", invoice("first", "open", 10, firstLines, "subscription_create"), 10);
  push("invoice.paid", invoice("first", "paid", 10, firstLines, "subscription_create"), 11);
  push("customer.subscription.updated", subscription("active", [proItem]), 11);
  push("customer.updated", aCustomer({ id: customerId, email: "second@example.com" }), 20);
  push("customer.subscription.updated", subscription("active", [proItem, seatItem(2)]), 30);
  push("invoice.created", invoice("proration", "draft", 30, prorationLines, "subscription_update"), 30);
  push("invoice.finalized", invoice("proration", "open", 30, prorationLines, "subscription_update"), 31);
  push("invoice.paid", invoice("proration", "paid", 30, prorationLines, "subscription_update"), 31);
  push("customer.subscription.updated", subscription("active", [proItem, seatItem(3)]), 40);
  push("invoice.created", invoice("renewal", "draft", 50, renewalLines, "subscription_cycle"), 50);
  push("invoice.finalized", invoice("renewal", "open", 50, renewalLines, "subscription_cycle"), 50);
  push("invoice.payment_failed", invoice("renewal", "open", 50, renewalLines, "subscription_cycle"), 51);
  push("customer.subscription.updated", subscription("past_due", [proItem, seatItem(3)]), 51);
  push("invoice.paid", invoice("renewal", "paid", 50, renewalLines, "subscription_cycle"), recovery);
  push("customer.subscription.updated", subscription("active", [proItem, seatItem(3)]), recovery);
  push(
    "customer.subscription.updated",
    subscription("active", [proItem], { cancelAtPeriodEnd: true, cancelAt: BASE_TIME + 90 }),
    70,
  );
  push(
    "customer.subscription.deleted",
    subscription("canceled", [proItem], {
      cancelAtPeriodEnd: true,
      cancelAt: BASE_TIME + 90,
      canceledAt: BASE_TIME + 80,
    }),
    80,
  );
  return { customerId, subscriptionId, events, finalObjects };
}
