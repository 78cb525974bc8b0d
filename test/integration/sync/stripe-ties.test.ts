import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { applyStripeEvent } from "../../../src/sync/apply-event.js";
import {
  anEvent,
  anInvoice,
  aPrice,
  aSubscription,
  asStoredEvent,
  BASE_TIME,
  type Json,
  type SubscriptionStatus,
  stripeId,
} from "../../support/builders.js";
import { failStripe, serveInvoice, serveSubscription, stripeCalls } from "./stripe-fake.js";
import {
  createSyncHarness,
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
beforeEach(() => {
  stripeCalls.length = 0;
});

/** Applies an event with a logger whose lines the test can read. */
async function applyLogged(envelope: Json) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  const outcome = await applyStripeEvent(
    harness.ctx,
    asStoredEvent(envelope),
    pino({ level: "info" }, stream),
  );
  return { outcome, lines };
}

const TIE = BASE_TIME + 50;

function subscriptionAt(
  base: { id: string; customer: string },
  status: SubscriptionStatus,
  created = TIE,
): Json {
  return anEvent(
    "customer.subscription.updated",
    aSubscription({ ...base, status, items: [{ id: `si_${base.id}`, price: { id: PRO_PRICE } }] }),
    { created },
  );
}

describe("a same-second tie between live statuses", () => {
  it.each<[string, SubscriptionStatus, SubscriptionStatus[]]>([
    ["past_due", "past_due", ["active", "past_due"]],
    ["past_due", "past_due", ["past_due", "active"]],
    ["active", "active", ["active", "past_due"]],
    ["active", "active", ["past_due", "active"]],
  ])("ends %s when Stripe says %s, processed as %j", async (_final, truth, order) => {
    const base = { id: stripeId("sub"), customer: stripeId("cus") };
    serveSubscription(() => objectOfEvent(subscriptionAt(base, truth)));
    const [first, second] = order.map((status) => subscriptionAt(base, status));
    expect(await harness.apply(first!)).toMatchObject({ status: "applied" });
    const before = Date.now();
    const { outcome } = await applyLogged(second!);
    const after = Date.now();
    expect(outcome).toMatchObject({
      status: "applied",
      detail: expect.stringContaining(`${truth} as Stripe has it (tie:`),
    });
    expect(stripeCalls).toEqual([`GET /v1/subscriptions/${base.id}`]);
    const row = await loadSubscription(harness.db, base.id);
    expect(row).toMatchObject({ status: truth, eventId: null });
    // Stripe's copy counts as of the read (the end of the second before it), newer than any event of the tied second.
    const asOf = row!.eventCreated!.getTime();
    expect(asOf).toBeGreaterThan(TIE * 1000);
    expect(asOf % 1000).toBe(999);
    expect(asOf).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1);
    expect(asOf).toBeLessThan(Math.floor(after / 1000) * 1000);

    // Another event of that second changes nothing now; a later one still does.
    expect(await harness.apply(subscriptionAt(base, order[0]!))).toEqual({
      status: "skipped",
      reason: "stale",
    });
    const later = subscriptionAt(base, "canceled", Math.floor(Date.now() / 1000) + 5);
    expect(await harness.apply(later)).toMatchObject({ status: "applied" });
    expect(await loadSubscription(harness.db, base.id)).toMatchObject({
      status: "canceled",
      eventId: later["id"],
    });
  });

  it("entitlements follow Stripe's answer, logged with the tied event", async () => {
    const base = { id: stripeId("sub"), customer: stripeId("cus") };
    serveSubscription(() => objectOfEvent(subscriptionAt(base, "canceled")));
    await harness.apply(subscriptionAt(base, "active"));
    const tied = subscriptionAt(base, "past_due");
    await harness.apply(tied);
    const sso = await harness.db.entitlement.findUniqueOrThrow({
      where: { customerId_feature: { customerId: base.customer, feature: "sso" } },
    });
    expect(sso).toMatchObject({ status: "revoked", reason: "subscription_canceled" });
    const revoke = await harness.db.accessLog.findFirstOrThrow({
      where: { customerId: base.customer, feature: "sso", action: "revoke" },
    });
    expect(revoke).toMatchObject({ cause: `event:${tied["id"]}` });
  });

  it("falls back to applying the later-processed event when Stripe is unreachable, and says so", async () => {
    const base = { id: stripeId("sub"), customer: stripeId("cus") };
    failStripe(`/v1/subscriptions/${base.id}`);
    await harness.apply(subscriptionAt(base, "active"));
    const { outcome, lines } = await applyLogged(subscriptionAt(base, "past_due"));
    expect(outcome).toMatchObject({ status: "applied" });
    expect(await loadSubscription(harness.db, base.id)).toMatchObject({ status: "past_due" });
    expect(stripeCalls.length).toBeGreaterThan(0);
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: "stripe unreachable; decided by the lifecycle rule",
        id: base.id,
        question: "tie: past_due in the same second as the held active",
      }),
    );
  });
});

describe("a terminal state in question", () => {
  it("asks Stripe when an active snapshot is stamped after the cancellation, and keeps what Stripe has", async () => {
    const base = { id: stripeId("sub"), customer: stripeId("cus") };
    const tokens = aPrice({ unitAmount: null, unitAmountDecimal: "0.000381", usageType: "metered" });
    const withTokens = (status: SubscriptionStatus) =>
      aSubscription({ ...base, status, items: [{ id: `si_${base.id}`, price: tokens }] });
    // The SDK reads decimal strings into Decimal objects; the mirror must still get the exact string.
    serveSubscription(() => withTokens("canceled"));
    await harness.apply(subscriptionAt(base, "canceled"));
    // In the cancellation's own second, canceled is the later status: no question, no read.
    expect(await harness.apply(subscriptionAt(base, "active"))).toMatchObject({ status: "skipped" });
    expect(stripeCalls).toEqual([]);

    const outcome = await harness.apply(subscriptionAt(base, "active", TIE + 10));
    expect(outcome).toMatchObject({
      status: "applied",
      detail: expect.stringContaining("canceled as Stripe has it"),
    });
    expect(stripeCalls).toEqual([`GET /v1/subscriptions/${base.id}`]);
    expect(await loadSubscription(harness.db, base.id)).toMatchObject({ status: "canceled", eventId: null });
    const price = await harness.db.price.findUniqueOrThrow({ where: { id: String(tokens["id"]) } });
    expect(price.unitAmountDecimal?.toString()).toBe("0.000381");
  });

  it("keeps a paid invoice paid without Stripe, and takes Stripe's copy of an invoice in question", async () => {
    const base = { id: stripeId("in"), customer: stripeId("cus"), subscription: stripeId("sub") };
    const invoiceEvent = (type: string, status: "open" | "paid" | "void", created: number) =>
      anEvent(type, anInvoice({ ...base, status }), { created });
    serveInvoice(() => objectOfEvent(invoiceEvent("invoice.voided", "void", TIE)));
    await harness.apply(invoiceEvent("invoice.paid", "paid", TIE));
    // Paid and voided in one second: only Stripe can say which is true.
    expect(await harness.apply(invoiceEvent("invoice.voided", "void", TIE))).toMatchObject({
      status: "applied",
      detail: expect.stringContaining("void as Stripe has it"),
    });
    expect(stripeCalls).toEqual([`GET /v1/invoices/${base.id}`]);
    expect(await loadInvoice(harness.db, base.id)).toMatchObject({ status: "void", eventId: null });
  });

  it("falls back to keeping the terminal state when Stripe is unreachable", async () => {
    const base = { id: stripeId("in"), customer: stripeId("cus"), subscription: stripeId("sub") };
    failStripe(`/v1/invoices/${base.id}`);
    await harness.apply(anEvent("invoice.paid", anInvoice({ ...base, status: "paid" }), { created: TIE }));
    expect(
      await harness.apply(
        anEvent("invoice.updated", anInvoice({ ...base, status: "open" }), { created: TIE + 10 }),
      ),
    ).toEqual({ status: "skipped", reason: "terminal: invoice is paid and cannot become open" });
    expect(await loadInvoice(harness.db, base.id)).toMatchObject({ status: "paid" });
  });
});

function objectOfEvent(envelope: Json): Json {
  return (envelope["data"] as Json)["object"] as Json;
}
