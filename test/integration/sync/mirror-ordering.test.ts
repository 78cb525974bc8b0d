import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  aCustomer,
  aDeletedCustomerStub,
  anEvent,
  anInvoice,
  aPrice,
  aSubscription,
  BASE_TIME,
  type Json,
  type SubscriptionStatus,
  stripeId,
} from "../../support/builders.js";
import {
  createSyncHarness,
  EXTERNAL_ID_KEY,
  loadInvoice,
  loadSubscription,
  PRO_PRICE,
  type SyncHarness,
} from "./sync-harness.js";

let harness: SyncHarness;
beforeAll(async () => {
  harness = await createSyncHarness();
});
afterAll(async () => {
  await harness.close();
});

const at = (offset: number) => BASE_TIME + offset;
const date = (offset: number) => new Date(at(offset) * 1000);

/** A subscription event stamped `offset` seconds after BASE_TIME. */
function subscriptionEvent(type: string, subscription: Json, offset: number): Json {
  return anEvent(`customer.subscription.${type}`, subscription, { created: at(offset) });
}

describe("ordering guard", () => {
  it("skips an event older than the one held as stale, and changes nothing", async () => {
    const base = { id: stripeId("sub"), customer: stripeId("cus") };
    const newer = subscriptionEvent(
      "updated",
      aSubscription({ ...base, status: "past_due", items: [{ quantity: 5 }] }),
      20,
    );
    const older = subscriptionEvent(
      "updated",
      aSubscription({ ...base, status: "active", items: [{ quantity: 2 }] }),
      10,
    );
    expect(await harness.apply(newer)).toMatchObject({ status: "applied" });
    const before = await loadSubscription(harness.db, base.id);

    expect(await harness.apply(older)).toEqual({ status: "skipped", reason: "stale" });
    expect(await loadSubscription(harness.db, base.id)).toEqual(before);
    expect(before).toMatchObject({ status: "past_due", eventId: newer["id"], eventCreated: date(20) });
    expect(before!.items.map((item) => item.quantity)).toEqual([5]);
  });

  it("keeps a canceled subscription canceled when an active snapshot is processed after the deletion", async () => {
    const base = { id: stripeId("sub"), customer: stripeId("cus") };
    const deleted = subscriptionEvent("deleted", aSubscription({ ...base, status: "canceled" }), 20);
    expect(await harness.apply(deleted)).toMatchObject({ status: "applied" });
    const before = await loadSubscription(harness.db, base.id);

    // In one second, canceled is the later status (a later-stamped active is settled by Stripe: stripe-ties.test.ts).
    const active = subscriptionEvent("updated", aSubscription({ ...base, status: "active" }), 20);
    expect(await harness.apply(active)).toEqual({
      status: "skipped",
      reason: "terminal: subscription is canceled and cannot become active",
    });
    expect(await loadSubscription(harness.db, base.id)).toEqual(before);
    expect(before).toMatchObject({ status: "canceled", eventId: deleted["id"] });
  });

  it.each([
    ["an earlier second", 9],
    ["the same second", 10],
  ])(
    "ends active when created(incomplete) from %s is processed after updated(active)",
    async (_case, createdAt) => {
      const base = { id: stripeId("sub"), customer: stripeId("cus") };
      const activated = subscriptionEvent("updated", aSubscription({ ...base, status: "active" }), 10);
      const created = subscriptionEvent(
        "created",
        aSubscription({ ...base, status: "incomplete" }),
        createdAt,
      );
      await harness.apply(activated);
      expect(await harness.apply(created)).toMatchObject({ status: "skipped" });
      expect(await loadSubscription(harness.db, base.id)).toMatchObject({
        status: "active",
        eventId: activated["id"],
      });
    },
  );

  it("applies a same-second snapshot again without changing anything (duplicate delivery)", async () => {
    const subscription = aSubscription({ status: "trialing" });
    const id = String(subscription["id"]);
    const event = subscriptionEvent("updated", subscription, 5);
    await harness.apply(event);
    const before = await loadSubscription(harness.db, id);
    expect(await harness.apply(event)).toMatchObject({ status: "applied" });
    const after = await loadSubscription(harness.db, id);
    expect({ ...after, updatedAt: null }).toEqual({ ...before, updatedAt: null });
  });

  it("keeps an invoice paid whichever of finalized and paid (same second) is processed last", async () => {
    const base = { id: stripeId("in"), customer: stripeId("cus"), subscription: stripeId("sub") };
    const paid = anEvent("invoice.paid", anInvoice({ ...base, status: "paid" }), { created: at(30) });
    const finalized = anEvent("invoice.finalized", anInvoice({ ...base, status: "open" }), {
      created: at(30),
    });
    await harness.apply(paid);
    expect(await harness.apply(finalized)).toEqual({
      status: "skipped",
      reason: "terminal: invoice is paid and cannot become open",
    });
    expect(await loadInvoice(harness.db, base.id)).toMatchObject({ status: "paid", amountPaid: 1000n });
  });

  it("keeps a deleted customer deleted when an update is processed after the deletion", async () => {
    const id = stripeId("cus");
    await harness.apply(
      anEvent("customer.updated", aCustomer({ id, email: "a@example.com" }), { created: at(1) }),
    );
    expect(
      await harness.apply(anEvent("customer.deleted", aDeletedCustomerStub(id), { created: at(2) })),
    ).toMatchObject({
      status: "applied",
    });
    const late = anEvent("customer.updated", aCustomer({ id, email: "b@example.com" }), { created: at(2) });
    expect(await harness.apply(late)).toMatchObject({ status: "skipped" });
    // The stub keeps what was known about the customer and only marks it deleted.
    expect(await harness.db.customer.findUnique({ where: { id } })).toMatchObject({
      deleted: true,
      email: "a@example.com",
    });
  });

  it("skips a stale price.updated and keeps tiers a fetch stored when a webhook omits them", async () => {
    const id = stripeId("price");
    const tiered = aPrice({
      id,
      billingScheme: "tiered",
      tiersMode: "graduated",
      unitAmount: null,
      tiers: [
        { up_to: 1000, unit_amount_decimal: "0.5" },
        { up_to: null, unit_amount_decimal: "0.25" },
      ],
    });
    await harness.apply(anEvent("price.created", tiered, { created: at(1) }));
    const withoutTiers = aPrice({
      id,
      billingScheme: "tiered",
      tiersMode: "graduated",
      unitAmount: null,
      lookupKey: "v2",
    });
    expect(await harness.apply(anEvent("price.updated", withoutTiers, { created: at(3) }))).toMatchObject({
      status: "applied",
    });
    const stale = aPrice({ id, billingScheme: "tiered", unitAmount: null, lookupKey: "v1" });
    expect(await harness.apply(anEvent("price.updated", stale, { created: at(2) }))).toEqual({
      status: "skipped",
      reason: "stale",
    });
    expect(await harness.db.price.findUnique({ where: { id } })).toMatchObject({
      lookupKey: "v2",
      tiers: [
        { up_to: 1000, unit_amount_decimal: "0.5", flat_amount_decimal: null },
        { up_to: null, unit_amount_decimal: "0.25", flat_amount_decimal: null },
      ],
      eventCreated: date(3),
    });
  });
});

describe("when a subscription became past_due", () => {
  it("is the time of the event that moved it there, kept while it stays, cleared when it leaves", async () => {
    const base = { id: stripeId("sub"), customer: stripeId("cus") };
    const pastDueSince = async () => (await loadSubscription(harness.db, base.id))?.pastDueSince;
    const deliver = async (status: SubscriptionStatus, offset: number, quantity = 1) =>
      harness.apply(
        subscriptionEvent("updated", aSubscription({ ...base, status, items: [{ quantity }] }), offset),
      );

    expect(await deliver("active", 10)).toMatchObject({ status: "applied" });
    expect(await pastDueSince()).toBeNull();
    expect(await deliver("past_due", 20)).toMatchObject({ status: "applied" });
    expect(await pastDueSince()).toEqual(date(20));
    expect(await deliver("past_due", 30, 3)).toMatchObject({ status: "applied" });
    expect(await pastDueSince()).toEqual(date(20));
    // An older event is refused whole, so it cannot move the time either way.
    expect(await deliver("past_due", 15)).toEqual({ status: "skipped", reason: "stale" });
    expect(await pastDueSince()).toEqual(date(20));
    expect(await deliver("active", 40)).toMatchObject({ status: "applied" });
    expect(await pastDueSince()).toBeNull();
    expect(await deliver("past_due", 50)).toMatchObject({ status: "applied" });
    expect(await pastDueSince()).toEqual(date(50));
  });

  it("is the event's time for a subscription first seen already past_due", async () => {
    const base = { id: stripeId("sub"), customer: stripeId("cus") };
    const updated = subscriptionEvent("updated", aSubscription({ ...base, status: "past_due" }), 25);
    expect(await harness.apply(updated)).toMatchObject({ status: "applied" });
    expect(await loadSubscription(harness.db, base.id)).toMatchObject({ pastDueSince: date(25) });
  });
});

describe("API shapes", () => {
  it("gives items their billing periods from a legacy and from a basil subscription", async () => {
    const legacy = aSubscription({ shape: "legacy", currentPeriodStart: at(0), currentPeriodEnd: at(100) });
    const basil = aSubscription({
      shape: "basil",
      items: [
        { currentPeriodStart: at(0), currentPeriodEnd: at(100) },
        { currentPeriodStart: at(50), currentPeriodEnd: at(80) },
      ],
    });
    for (const subscription of [legacy, basil])
      expect(await harness.apply(subscriptionEvent("created", subscription, 0))).toMatchObject({
        status: "applied",
      });

    const legacyRow = await loadSubscription(harness.db, String(legacy["id"]));
    expect(legacyRow!.items.map((item) => [item.currentPeriodStart, item.currentPeriodEnd])).toEqual([
      [date(0), date(100)],
    ]);
    const basilRow = await loadSubscription(harness.db, String(basil["id"]));
    expect(
      basilRow!.items
        .map((item) => [item.currentPeriodStart, item.currentPeriodEnd])
        .sort((a, b) => +a[1]! - +b[1]!),
    ).toEqual([
      [date(50), date(80)],
      [date(0), date(100)],
    ]);
    // The subscription renews when its first item does.
    expect(basilRow).toMatchObject({ currentPeriodStart: date(50), currentPeriodEnd: date(80) });
  });

  it("links an old-version invoice and a new-version invoice of the same subscription to it", async () => {
    const customer = stripeId("cus");
    const subscription = aSubscription({ customer });
    const subscriptionId = String(subscription["id"]);
    await harness.apply(subscriptionEvent("created", subscription, 0));
    const legacy = anInvoice({ shape: "legacy", customer, subscription: subscriptionId });
    const basil = anInvoice({
      shape: "basil",
      customer,
      subscription: subscriptionId,
      lines: [{ quantityDecimal: "2.5", amount: 2500 }],
    });
    await harness.apply(anEvent("invoice.paid", legacy, { created: at(1) }));
    await harness.apply(anEvent("invoice.paid", basil, { created: at(2) }));

    const linked = await harness.db.invoice.findMany({ where: { subscriptionId }, include: { lines: true } });
    expect(linked.map((invoice) => invoice.id).sort()).toEqual(
      [String(legacy["id"]), String(basil["id"])].sort(),
    );
    const basilRow = linked.find((invoice) => invoice.id === basil["id"])!;
    expect(basilRow.lines[0]!.quantity?.toString()).toBe("2.5");
    expect(basilRow.lines[0]!.subscriptionItemId).toMatch(/^si_/);
  });

  it("keeps apart pre-2019 subscription lines that share one id across invoices", async () => {
    const subscription = stripeId("sub");
    const first = anInvoice({ shape: "legacy", subscription, lines: [{ id: subscription, amount: 100 }] });
    const second = anInvoice({ shape: "legacy", subscription, lines: [{ id: subscription, amount: 200 }] });
    await harness.apply(anEvent("invoice.paid", first, { created: at(1) }));
    await harness.apply(anEvent("invoice.paid", second, { created: at(2) }));
    for (const [invoice, amount] of [
      [first, 100n],
      [second, 200n],
    ] as const)
      expect(
        (await loadInvoice(harness.db, String(invoice["id"])))!.lines.map((line) => [line.id, line.amount]),
      ).toEqual([[`${invoice["id"]}:${subscription}`, amount]]);
  });
});

describe("mirror rows", () => {
  it("replaces a subscription's items, except when Stripe truncated the list", async () => {
    const base = { id: stripeId("sub"), customer: stripeId("cus") };
    const [kept, dropped, added] = [stripeId("si"), stripeId("si"), stripeId("si")];
    const itemIds = async () =>
      (await loadSubscription(harness.db, base.id))!.items.map((item) => item.id).sort();
    await harness.apply(
      subscriptionEvent("created", aSubscription({ ...base, items: [{ id: kept }, { id: dropped }] }), 0),
    );
    await harness.apply(subscriptionEvent("updated", aSubscription({ ...base, items: [{ id: kept }] }), 1));
    expect(await itemIds()).toEqual([kept]);

    const truncated = aSubscription({ ...base, items: [{ id: added }] });
    (truncated["items"] as Json)["has_more"] = true;
    await harness.apply(subscriptionEvent("updated", truncated, 2));
    expect(await itemIds()).toEqual([kept, added].sort());
  });

  it("creates a bare customer for a subscription that comes first, then fills it from the customer's event", async () => {
    const customer = stripeId("cus");
    await harness.apply(subscriptionEvent("created", aSubscription({ customer }), 10));
    expect(await harness.db.customer.findUnique({ where: { id: customer } })).toMatchObject({
      email: null,
      externalId: null,
      eventCreated: null,
    });
    // The customer was created before the subscription, so its event is older, and still fills the bare row in.
    const created = anEvent(
      "customer.created",
      aCustomer({ id: customer, metadata: { [EXTERNAL_ID_KEY]: "org_9" } }),
      {
        created: at(5),
      },
    );
    expect(await harness.apply(created)).toMatchObject({ status: "applied" });
    expect(await harness.db.customer.findUnique({ where: { id: customer } })).toMatchObject({
      externalId: "org_9",
      email: "customer@example.com",
      eventId: created["id"],
    });
  });

  it("recomputes the customer's entitlements after a subscription change, naming the event", async () => {
    const customer = stripeId("cus");
    const event = subscriptionEvent(
      "created",
      aSubscription({ customer, items: [{ price: { id: PRO_PRICE } }] }),
      0,
    );
    await harness.apply(event);
    const log = await harness.db.accessLog.findMany({ where: { customerId: customer } });
    expect(log.length).toBeGreaterThan(0);
    expect(
      log.every((entry) => entry.cause === `event:${event["id"]}` && entry.eventId === event["id"]),
    ).toBe(true);
  });

  it.each([
    [
      "a subscription without a customer",
      "customer.subscription.updated",
      { id: "sub_x", object: "subscription", status: "active", items: { data: [] } },
      /has no customer/,
    ],
    [
      "an invoice without a currency",
      "invoice.paid",
      { id: "in_x", object: "invoice", customer: "cus_x", total: 1, amount_due: 1, amount_paid: 1 },
      /has no currency/,
    ],
    ["a price without a currency", "price.updated", { id: "price_x", object: "price" }, /has no currency/],
  ])("reports %s as unsupported and writes nothing", async (_case, type, object, reason) => {
    const outcome = await harness.apply(anEvent(type, object));
    expect(outcome.status).toBe("unsupported");
    if (outcome.status === "unsupported") expect(outcome.reason).toMatch(reason);
    const id = String(object.id);
    expect(await harness.db.subscription.findUnique({ where: { id } })).toBeNull();
    expect(await harness.db.invoice.findUnique({ where: { id } })).toBeNull();
    expect(await harness.db.price.findUnique({ where: { id } })).toBeNull();
  });

  it("reports an event without data.object as unsupported", async () => {
    const envelope = anEvent("invoice.paid", {});
    envelope["data"] = {};
    expect(await harness.apply(envelope)).toEqual({
      status: "unsupported",
      reason: "event has no data.object",
    });
  });
});
