import { randomBytes } from "node:crypto";
import { type ApiShape, aCustomer, anInvoice, type Json } from "../../support/builders.js";
import { aCustomerSubscription, DAY, eventAt, proPrice, type Scenarios } from "./scenario-harness.js";

export const newTag = () => `T${randomBytes(5).toString("hex")}`;

/**
 * One customer's whole life in named events, in Stripe's order, every id carrying `tag` so two copies compare once
 * it is replaced: sign-up, first payment, a renewal that fails and is paid two days later, cancel at period end,
 * deletion. Copies compared with each other must share `now`.
 */
export function lifecycle(shape: ApiShape, tag: string, now: number) {
  const renewedAt = now - 2 * DAY;
  const start = renewedAt - 30 * DAY;
  const customer = `cus_${tag}`;
  const sub = aCustomerSubscription(shape, {
    customer,
    id: `sub_${tag}`,
    created: start,
    currentPeriodStart: start,
    currentPeriodEnd: renewedAt,
    items: [{ id: `si_${tag}`, price: proPrice(shape) }],
  });
  const renewed = { currentPeriodStart: renewedAt, currentPeriodEnd: renewedAt + 30 * DAY };
  const invoice = (
    name: string,
    status: "open" | "paid",
    created: number,
    periodStart: number,
    periodEnd: number,
  ) =>
    anInvoice({
      id: `in_${tag}_${name}`,
      customer,
      subscription: sub.id,
      shape,
      status,
      created,
      periodStart,
      periodEnd,
      billingReason: name === "first" ? "subscription_create" : "subscription_cycle",
      lines: [
        {
          id: `il_${tag}_${name}`,
          subscription: sub.id,
          subscriptionItem: `si_${tag}`,
          price: proPrice(shape),
        },
      ],
    });
  let n = 0;
  const event = (type: string, object: Json, created: number) =>
    eventAt(type, object, created, `evt_${tag}_${n++}`);
  const events = {
    customerCreated: event(
      "customer.created",
      aCustomer({ id: customer, metadata: { user_id: `user_${tag}` }, created: start }),
      start,
    ),
    created: event("customer.subscription.created", sub.snapshot({ status: "incomplete" }), start),
    firstPaid: event("invoice.paid", invoice("first", "paid", start, start, start), start + 5),
    activated: event("customer.subscription.updated", sub.snapshot({ status: "active" }), start + 6),
    renewalFailed: event(
      "invoice.payment_failed",
      invoice("renewal", "open", renewedAt, start, renewedAt),
      renewedAt + 3600,
    ),
    pastDue: event(
      "customer.subscription.updated",
      sub.snapshot({ status: "past_due", ...renewed }),
      renewedAt + 3601,
    ),
    renewalPaid: event("invoice.paid", invoice("renewal", "paid", renewedAt, start, renewedAt), now - 3600),
    recovered: event(
      "customer.subscription.updated",
      sub.snapshot({ status: "active", ...renewed }),
      now - 3599,
    ),
    cancelRequested: event(
      "customer.subscription.updated",
      sub.snapshot({ status: "active", cancelAtPeriodEnd: true, ...renewed }),
      now - 600,
    ),
    deleted: event(
      "customer.subscription.deleted",
      sub.snapshot({ status: "canceled", canceledAt: now - 60, endedAt: now - 60, ...renewed }),
      now - 60,
    ),
  };
  return { customer, tag, events, all: Object.values(events) };
}

export type Lifecycle = ReturnType<typeof lifecycle>;
export type LifecycleEvent = keyof Lifecycle["events"];

export type ComparableEntry = {
  feature: string;
  action: string;
  cause: string;
  event_id: string | null;
  before: unknown;
  after: unknown;
};

/** The access log with the copy's tag taken out; rows of one recomputation ordered by feature. */
export async function comparableLog(scenarios: Scenarios, life: Lifecycle): Promise<ComparableEntry[]> {
  const entries = await scenarios.accessLog(life.customer);
  const rows = entries.map(
    (entry): ComparableEntry =>
      JSON.parse(
        JSON.stringify({
          feature: entry.feature,
          action: entry.action,
          cause: entry.cause,
          event_id: entry.event_id,
          before: entry.before,
          after: entry.after,
        }).replaceAll(life.tag, "TAG"),
      ),
  );
  const groups: ComparableEntry[][] = [];
  for (const row of rows) {
    const last = groups.at(-1);
    if (last !== undefined && last[0]!.cause === row.cause) last.push(row);
    else groups.push([row]);
  }
  return groups.flatMap((group) => group.sort((a, b) => (a.feature < b.feature ? -1 : 1)));
}
