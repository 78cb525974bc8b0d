import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ApiShape,
  aCustomer,
  anEvent,
  anInvoice,
  aPrice,
  aSubscription,
  BASE_TIME,
  type Json,
  type SubscriptionStatus,
} from "../../support/builders.js";
import { createSyncHarness, type SyncHarness } from "./sync-harness.js";

let harness: SyncHarness;
beforeAll(async () => {
  harness = await createSyncHarness();
});
afterAll(async () => {
  await harness.close();
});

/** The variations of one customer's subscription life that Stripe can produce, including same-second events. */
type Lifecycle = {
  shape: ApiShape;
  /** Payment succeeds in the second the subscription is created (created and activated share a timestamp). */
  activatedInCreationSecond: boolean;
  pastDueThenRecovered: boolean;
  upgraded: boolean;
  cancel: "never" | "same_second_as_last_update" | "later";
};

let runs = 0;

/** Every id carries `tag`, so two copies of one lifecycle can be compared by replacing it. */
function buildLifecycle(life: Lifecycle, tag: string): Json[] {
  const id = (prefix: string, name: string) => `${prefix}_${tag}_${name}`;
  const customer = id("cus", "c");
  const subscriptionId = id("sub", "s");
  const base = { id: subscriptionId, customer, shape: life.shape, created: BASE_TIME + 1 };
  const starter = aPrice({
    id: id("price", "starter"),
    product: id("prod", "p"),
    unitAmount: 1000,
    shape: life.shape,
  });
  const pro = aPrice({
    id: id("price", "pro"),
    product: id("prod", "p"),
    unitAmount: 5000,
    shape: life.shape,
  });
  const starterItem = { id: id("si", "starter"), price: starter };
  const proItem = { id: id("si", "pro"), price: pro, quantity: 2 };
  const events: Json[] = [];
  const push = (type: string, object: Json, offset: number) =>
    events.push(anEvent(type, object, { id: id("evt", String(events.length)), created: BASE_TIME + offset }));
  const subscription = (status: SubscriptionStatus, items: object[], extra: object = {}) =>
    aSubscription({ ...base, status, items, ...extra });
  const invoice = (status: "draft" | "open" | "paid") =>
    anInvoice({
      id: id("in", "first"),
      customer,
      subscription: subscriptionId,
      status,
      shape: life.shape,
      created: BASE_TIME + 1,
      billingReason: "subscription_create",
      lines: [{ id: id("il", "first"), price: starter, subscriptionItem: starterItem.id }],
    });

  push("customer.created", aCustomer({ id: customer, email: "first@example.com" }), 0);
  push("customer.subscription.created", subscription("incomplete", [starterItem]), 1);
  push("invoice.created", invoice("draft"), 1);
  push("invoice.finalized", invoice("open"), 1);
  const activatedAt = life.activatedInCreationSecond ? 1 : 2;
  push("invoice.paid", invoice("paid"), activatedAt);
  push("customer.subscription.updated", subscription("active", [starterItem]), activatedAt);
  if (life.pastDueThenRecovered) {
    push("customer.subscription.updated", subscription("past_due", [starterItem]), 3);
    push("customer.subscription.updated", subscription("active", [starterItem]), 4);
  }
  const items = life.upgraded ? [proItem] : [starterItem];
  if (life.upgraded) push("customer.subscription.updated", subscription("active", items), 5);
  push("customer.updated", aCustomer({ id: customer, email: "second@example.com" }), 6);
  if (life.cancel !== "never") {
    push("customer.subscription.updated", subscription("active", items, { cancelAtPeriodEnd: true }), 7);
    const canceledAt = life.cancel === "later" ? 8 : 7;
    push(
      "customer.subscription.deleted",
      subscription("canceled", items, { canceledAt: BASE_TIME + canceledAt }),
      canceledAt,
    );
  }
  return events;
}

/** Everything mirrored for one lifecycle copy, with its tag replaced so that copies compare equal. */
async function mirroredState(tag: string): Promise<string> {
  const { db } = harness;
  const customerId = `cus_${tag}_c`;
  const state = {
    customer: await db.customer.findUnique({ where: { id: customerId }, omit: { updatedAt: true } }),
    subscriptions: await db.subscription.findMany({
      where: { customerId },
      omit: { updatedAt: true },
      include: { items: { orderBy: { id: "asc" } } },
    }),
    invoices: await db.invoice.findMany({
      where: { customerId },
      omit: { updatedAt: true },
      include: { lines: { orderBy: { id: "asc" } } },
    }),
    prices: await db.price.findMany({
      where: { id: { startsWith: `price_${tag}_` } },
      omit: { updatedAt: true },
      orderBy: { id: "asc" },
    }),
  };
  const json = JSON.stringify(state, (_key, value) => (typeof value === "bigint" ? `${value}n` : value));
  return json.replaceAll(tag, "TAG");
}

async function deliver(events: Json[]): Promise<void> {
  for (const event of events) {
    const outcome = await harness.apply(event);
    expect(["applied", "skipped"]).toContain(outcome.status);
  }
}

const lifecycles: fc.Arbitrary<Lifecycle> = fc.record({
  shape: fc.constantFrom<ApiShape>("basil", "legacy"),
  activatedInCreationSecond: fc.boolean(),
  pastDueThenRecovered: fc.boolean(),
  upgraded: fc.boolean(),
  cancel: fc.constantFrom<Lifecycle["cancel"]>("never", "same_second_as_last_update", "later"),
});

describe("a subscription's lifecycle events in any order", () => {
  it("end in the same mirrored state as in-order delivery", async () => {
    await fc.assert(
      fc.asyncProperty(
        lifecycles.chain((life) => {
          const count = buildLifecycle(life, "count").length;
          const order = [...Array(count).keys()];
          return fc.tuple(
            fc.constant(life),
            fc.shuffledSubarray(order, { minLength: count, maxLength: count }),
          );
        }),
        async ([life, order]) => {
          runs += 1;
          const inOrderTag = `ord${runs}x${process.pid}`;
          const shuffledTag = `shf${runs}x${process.pid}`;
          const shuffled = buildLifecycle(life, shuffledTag);
          // The two copies use different ids, so they are delivered side by side.
          await Promise.all([
            deliver(buildLifecycle(life, inOrderTag)),
            deliver(order.map((index) => shuffled[index]!)),
          ]);
          expect(await mirroredState(shuffledTag)).toEqual(await mirroredState(inOrderTag));
        },
      ),
      { numRuns: 10 },
    );
  });

  it("ends in the last event's state when delivered newest first", async () => {
    const life: Lifecycle = {
      shape: "basil",
      activatedInCreationSecond: true,
      pastDueThenRecovered: true,
      upgraded: true,
      cancel: "same_second_as_last_update",
    };
    const tag = `rev${process.pid}`;
    await deliver(buildLifecycle(life, tag).reverse());
    const subscription = await harness.db.subscription.findUnique({
      where: { id: `sub_${tag}_s` },
      include: { items: true },
    });
    expect(subscription).toMatchObject({ status: "canceled", eventId: `evt_${tag}_11` });
    expect(subscription!.items.map((item) => [item.id, item.quantity])).toEqual([[`si_${tag}_pro`, 2]]);
    expect(await harness.db.invoice.findUnique({ where: { id: `in_${tag}_first` } })).toMatchObject({
      status: "paid",
    });
    expect(await harness.db.customer.findUnique({ where: { id: `cus_${tag}_c` } })).toMatchObject({
      email: "second@example.com",
    });
  });
});
