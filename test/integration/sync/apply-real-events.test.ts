import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { SyncOutcome } from "../../../src/sync/types.js";
import { type Json, stripeFixture, stripeFixtureNames } from "../../support/builders.js";
import { aCharge } from "./payment-builders.js";
import { serveCharge, serveInvoicePaymentsOf } from "./stripe-fake.js";
import {
  createSyncHarness,
  EXTERNAL_ID_KEY,
  loadInvoice,
  loadSubscription,
  type SyncHarness,
} from "./sync-harness.js";

let harness: SyncHarness;
beforeAll(async () => {
  harness = await createSyncHarness();
  // The charges the dispute and refund payloads name, and the invoices their payment intents paid.
  serveCharge(
    aCharge({ id: DISPUTED_CHARGE, customer: "cus_disputed_fixture", paymentIntent: DISPUTED_INTENT }),
  );
  serveInvoicePaymentsOf(DISPUTED_INTENT, "in_disputed_fixture");
  serveCharge(
    aCharge({
      id: REFUNDED_CHARGE,
      customer: "cus_refunded_fixture",
      paymentIntent: REFUNDED_INTENT,
      amount: 1000,
      amountRefunded: 1000,
    }),
  );
  serveInvoicePaymentsOf(REFUNDED_INTENT, null);
});
afterAll(async () => {
  await harness.close();
});
beforeEach(async () => {
  await harness.resetMirrors();
});

const at = (seconds: number) => new Date(seconds * 1000);

type Expectation = { outcome: SyncOutcome["status"]; rows?: (envelope: Json) => Promise<void> };

const ignored: Expectation = { outcome: "ignored" };

const DISPUTED_CHARGE = "ch_1IqtGAJDPojXS6LNstgEfUji";
const DISPUTED_INTENT = "pi_1IqtG9JDPojXS6LNOGnYrIqq";
const REFUNDED_CHARGE = "ch_1NirD82eZvKYlo2CIvbtLWuY";
const REFUNDED_INTENT = "pi_1GszsK2eZvKYlo2CfhZyoZLp";

/** The dispute payloads are inquiries (warning_needs_response): under the default policy an open one holds access. */
const disputeHeld: Expectation = {
  outcome: "applied",
  rows: async (envelope) => {
    expect(
      await harness.db.entitlementHold.findUniqueOrThrow({
        where: { kind_reference: { kind: "dispute", reference: "dp_1MLuxQJDPojXS6LNrukJCBBG" } },
      }),
    ).toMatchObject({
      customerId: "cus_disputed_fixture",
      reason: "payment_disputed",
      eventId: envelope["id"],
      eventCreated: at(1619701111),
      releasedAt: null,
    });
  },
};

/** What applying each copied real event must leave in the mirrors. */
const EXPECTED: Record<string, Expectation> = {
  "2020-03-02__charge.dispute.closed__stripe-sync-engine.json": disputeHeld,
  "2020-03-02__charge.dispute.created__stripe-sync-engine.json": disputeHeld,
  "2020-03-02__charge.refunded__stripe-sync-engine.json": {
    outcome: "applied",
    rows: async (envelope) => {
      // The whole 2500 was refunded; the charge names its invoice (a pre-basil payload).
      expect(
        await harness.db.entitlementHold.findUniqueOrThrow({
          where: { kind_reference: { kind: "refund", reference: "ch_3Kl36gJDPojXS6LN0DCM4A8l" } },
        }),
      ).toMatchObject({
        customerId: "cus_J7Mkgr8mvbl1eK",
        reason: "payment_refunded",
        eventId: envelope["id"],
      });
    },
  },
  // A payment-mode checkout: no subscription to apply.
  "2020-03-02__checkout.session.completed__stripe-sync-engine.json": ignored,
  "2020-03-02__credit_note.created__stripe-sync-engine.json": ignored,
  "2020-03-02__entitlements.active_entitlement_summary.updated__stripe-sync-engine.json": ignored,
  "2020-03-02__refund.created__stripe-sync-engine.json": {
    outcome: "applied",
    rows: async (envelope) => {
      // The refund names only its charge: the customer and the refunded total come from Stripe's copy of it.
      expect(
        await harness.db.entitlementHold.findUniqueOrThrow({
          where: { kind_reference: { kind: "refund", reference: REFUNDED_CHARGE } },
        }),
      ).toMatchObject({
        customerId: "cus_refunded_fixture",
        subscriptionId: null,
        eventId: envelope["id"],
        releasedAt: null,
      });
    },
  },
  "2020-03-02__subscription_schedule.canceled__stripe-sync-engine.json": ignored,
  "2020-03-02__subscription_schedule.completed__stripe-sync-engine.json": ignored,
  "2020-03-02__subscription_schedule.created__stripe-sync-engine.json": ignored,
  "2020-03-02__subscription_schedule.released__stripe-sync-engine.json": ignored,
  "2020-03-02__subscription_schedule.updated__stripe-sync-engine.json": ignored,
  "2023-10-16__invoice_payment.paid__stripe-sync-engine.json": ignored,
  "2020-03-02__invoice.upcoming__stripe-sync-engine.json": ignored,

  "2020-03-02__customer.deleted__stripe-sync-engine.json": {
    outcome: "applied",
    rows: async (envelope) => {
      expect(
        await harness.db.customer.findUniqueOrThrow({ where: { id: "cus_IhGfebO16cMIGN" } }),
      ).toMatchObject({
        deleted: true,
        // The stub says nothing about the customer's details, so none are invented.
        email: null,
        externalId: null,
        eventId: envelope["id"],
        eventCreated: at(1619701111),
      });
    },
  },
  "2020-03-02__customer.updated__stripe-sync-engine.json": {
    outcome: "applied",
    rows: async (envelope) => {
      expect(
        await harness.db.customer.findUniqueOrThrow({ where: { id: "cus_IhGfebO16cMIGN" } }),
      ).toMatchObject({
        externalId: "35",
        email: "customer@example.com",
        name: "Test Customer",
        metadata: { [EXTERNAL_ID_KEY]: "35" },
        deleted: false,
        stripeCreated: at(1609763141),
        eventId: envelope["id"],
      });
    },
  },
  "2020-03-02__customer.subscription.created__stripe-sync-engine.json": {
    outcome: "applied",
    rows: async (envelope) => {
      const subscription = await loadSubscription(harness.db, "sub_JdIzvfy6o5GZRd");
      expect(subscription).toMatchObject({
        customerId: "cus_IhGfebO16cMIGN",
        status: "active",
        cancelAtPeriodEnd: false,
        currentPeriodStart: at(1623148918),
        currentPeriodEnd: at(1625740918),
        eventId: envelope["id"],
        eventCreated: at(1623148918),
      });
      expect(
        subscription!.items.map((item) => [item.id, item.priceId, item.productId, item.quantity]),
      ).toEqual([
        ["si_JdIzi4Tn5jV9PD", "price_1IDQm5JDPojXS6LNM31hxKzp", "prod_Ip4vqwv3EJ7Mi0", 1],
        ["si_JdIzi4Tn5jVaaa", "price_1IDQm5JDPojXS6LNM31hxKzp", "prod_Ip4vqwv3EJ7Mi0", null],
      ]);
      expect(subscription!.items.every((item) => item.currentPeriodEnd?.getTime() === 1625740918_000)).toBe(
        true,
      );
      expect(
        await harness.db.price.findUniqueOrThrow({ where: { id: "price_1IDQm5JDPojXS6LNM31hxKzp" } }),
      ).toMatchObject({ currency: "usd", unitAmount: 0n, recurringInterval: "month", usageType: "licensed" });
      // The customer was not mirrored yet: a bare row makes lookups work until its own event arrives.
      expect(await harness.db.customer.findUnique({ where: { id: "cus_IhGfebO16cMIGN" } })).toMatchObject({
        email: null,
        eventCreated: null,
      });
    },
  },
  "2020-03-02__customer.subscription.updated__stripe-sync-engine.json": {
    outcome: "applied",
    rows: async () => {
      const subscription = await loadSubscription(harness.db, "sub_JLEPMp81LApOJl");
      expect(subscription).toMatchObject({
        status: "active",
        metadata: expect.objectContaining({ test: "1" }),
      });
      expect(subscription!.items.map((item) => item.id)).toEqual(["si_JLEPdb3X81qQ9L"]);
    },
  },
  "2020-03-02__customer.subscription.deleted__stripe-sync-engine.json": {
    outcome: "applied",
    rows: async () => {
      expect(await loadSubscription(harness.db, "sub_JdIzvfy6o5GZRd")).toMatchObject({
        status: "canceled",
        canceledAt: at(1623149102),
        endedAt: at(1623149102),
      });
    },
  },
  "2020-03-02__invoice.finalized__stripe-sync-engine.json": {
    outcome: "applied",
    rows: async () => {
      const invoice = await loadInvoice(harness.db, "in_1KJdKkJDPojXS6LNSwSWkZSN");
      expect(invoice).toMatchObject({
        customerId: "cus_J7Mkgr8mvbl1eK",
        subscriptionId: "sub_K4J0aB2bmSyb6b",
        status: "open",
        currency: "usd",
        billingReason: "subscription_cycle",
      });
      expect(invoice!.lines).toHaveLength(1);
      expect(invoice!.lines[0]).toMatchObject({
        id: "il_1KJdKkJDPojXS6LN2lyAeJz1",
        subscriptionItemId: "si_K4J0IhgijHnskj",
      });
      expect(await harness.db.customer.count({ where: { id: "cus_J7Mkgr8mvbl1eK" } })).toBe(1);
    },
  },
  "2020-03-02__invoice.paid__stripe-sync-engine.json": {
    outcome: "applied",
    rows: async () => {
      const invoice = await loadInvoice(harness.db, "in_1KJqKBJDPojXS6LNJbvLUgEy");
      expect(invoice).toMatchObject({ status: "paid", subscriptionId: "sub_JsuPyCPhXWfZar", total: 0n });
      expect(invoice!.lines[0]).toMatchObject({
        priceId: "price_1IDQm5JDPojXS6LNM31hxKzp",
        productId: "prod_Ip4vqwv3EJ7Mi0",
        periodStart: at(1642645280),
        periodEnd: at(1645323680),
        proration: false,
      });
      expect(invoice!.lines[0]!.quantity?.toString()).toBe("1");
    },
  },
  "2020-03-02__invoice.voided__stripe-sync-engine.json": {
    outcome: "applied",
    rows: async () => {
      expect(await loadInvoice(harness.db, "in_1KJqKBJDPojXS6LNJbvLUgEy")).toMatchObject({ status: "void" });
    },
  },
  "2020-08-27__invoice.deleted__stripe-sync-engine.json": {
    outcome: "applied",
    rows: async () => {
      const invoice = await loadInvoice(harness.db, "in_xyz");
      expect(invoice).toMatchObject({
        status: "deleted",
        customerId: "cus_123",
        subscriptionId: null,
        total: 1000n,
      });
      expect(invoice!.lines.map((line) => [line.id, line.amount, line.priceId])).toEqual([
        ["il_1", 1000n, "price_1"],
      ]);
    },
  },
};

const names = stripeFixtureNames("events");

describe("applyStripeEvent over every copied real event", () => {
  it("has an expectation for every copied event", () => {
    expect(names.filter((name) => !(name in EXPECTED))).toEqual([]);
  });

  it.each(names)("%s", async (name) => {
    const expectation = EXPECTED[name]!;
    const envelope = stripeFixture(`events/${name}`);
    const outcome = await harness.apply(envelope);
    expect(outcome.status).toBe(expectation.outcome);
    if (expectation.outcome === "ignored") {
      expect(outcome).toMatchObject({ reason: expect.stringContaining(String(envelope["type"])) });
      const rows = await Promise.all([
        harness.db.customer.count(),
        harness.db.subscription.count(),
        harness.db.invoice.count(),
        harness.db.price.count(),
      ]);
      expect(rows).toEqual([0, 0, 0, 0]);
    }
    await expectation.rows?.(envelope);
  });

  it.each(names.filter((name) => EXPECTED[name]!.outcome === "applied"))(
    "%s delivered twice changes nothing the second time",
    async (name) => {
      const envelope = stripeFixture(`events/${name}`);
      await harness.apply(envelope);
      const before = await snapshotMirrors();
      expect((await harness.apply(envelope)).status).toBe("applied");
      expect(await snapshotMirrors()).toEqual(before);
    },
  );
});

async function snapshotMirrors() {
  const strip = <T extends { updatedAt?: Date }>(rows: T[]) => rows.map(({ updatedAt: _u, ...rest }) => rest);
  return {
    customers: strip(await harness.db.customer.findMany({ orderBy: { id: "asc" } })),
    subscriptions: strip(await harness.db.subscription.findMany({ orderBy: { id: "asc" } })),
    items: await harness.db.subscriptionItem.findMany({ orderBy: { id: "asc" } }),
    prices: strip(await harness.db.price.findMany({ orderBy: { id: "asc" } })),
    invoices: strip(await harness.db.invoice.findMany({ orderBy: { id: "asc" } })),
    lines: await harness.db.invoiceLine.findMany({ orderBy: { id: "asc" } }),
    holds: await harness.db.entitlementHold.findMany({ orderBy: { reference: "asc" } }),
    access: await harness.db.accessLog.count(),
  };
}
