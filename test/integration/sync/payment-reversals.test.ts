import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  anEvent,
  anInvoice,
  aSubscription,
  BASE_TIME,
  type Json,
  objectOf,
  stripeFixture,
  stripeId,
} from "../../support/builders.js";
import { aCharge, aDispute, aRefund } from "./payment-builders.js";
import { failStripe, serveCharge, serveInvoicePaymentsOf } from "./stripe-fake.js";
import { createSyncHarness, loadAccessLog, PRO_PRICE, type SyncHarness } from "./sync-harness.js";

let harness: SyncHarness;
beforeAll(async () => {
  harness = await createSyncHarness();
});
afterAll(async () => {
  await harness.close();
});

/** A customer whose active subscription (granting sso and api_calls) and its paid invoice are mirrored. */
async function customerWithAccess() {
  const customer = stripeId("cus");
  const subscription = stripeId("sub");
  const invoice = stripeId("in");
  await harness.apply(
    anEvent(
      "customer.subscription.created",
      aSubscription({ id: subscription, customer, items: [{ price: { id: PRO_PRICE } }] }),
    ),
  );
  await harness.apply(anEvent("invoice.paid", anInvoice({ id: invoice, customer, subscription })));
  return { customer, subscription, invoice };
}

/** A copied real event with its object edited and a fresh event id and time. */
function realEvent(name: string, edit: (object: Json) => Json, created: number): Json {
  const envelope = structuredClone(stripeFixture(`events/${name}`));
  return { ...envelope, id: stripeId("evt"), created, data: { object: edit(objectOf(envelope)) } };
}

const sso = (customerId: string) =>
  harness.db.entitlement.findUniqueOrThrow({ where: { customerId_feature: { customerId, feature: "sso" } } });

describe("refunds", () => {
  it("a full refund (real charge.refunded) revokes the access the invoice paid for, logging the event", async () => {
    const { customer, subscription, invoice } = await customerWithAccess();
    const refunded = realEvent(
      "2020-03-02__charge.refunded__stripe-sync-engine.json",
      (charge) => ({ ...charge, id: stripeId("ch"), customer, invoice }),
      BASE_TIME + 100,
    );
    expect(await harness.apply(refunded)).toMatchObject({
      status: "applied",
      detail: expect.stringContaining("full refund"),
    });
    expect(await sso(customer)).toMatchObject({ status: "revoked", reason: "payment_refunded" });
    expect(
      await harness.db.entitlementHold.findFirstOrThrow({ where: { customerId: customer } }),
    ).toMatchObject({
      kind: "refund",
      subscriptionId: subscription,
      eventId: refunded["id"],
    });
    const revokes = (await loadAccessLog(harness.db, customer)).filter((row) => row.action === "revoke");
    expect(revokes.map((row) => [row.feature, row.cause, row.eventId])).toEqual([
      ["api_calls", `event:${refunded["id"]}`, refunded["id"]],
      ["sso", `event:${refunded["id"]}`, refunded["id"]],
    ]);

    // Delivered again: nothing more is logged.
    await harness.apply(refunded);
    expect(await loadAccessLog(harness.db, customer)).toHaveLength(4);
  });

  it("a partial refund only flags the charge: access stays and nothing is held", async () => {
    const { customer, invoice } = await customerWithAccess();
    const partial = realEvent(
      "2020-03-02__charge.refunded__stripe-sync-engine.json",
      (charge) => ({
        ...charge,
        id: stripeId("ch"),
        customer,
        invoice,
        amount_refunded: 1000,
        refunded: false,
      }),
      BASE_TIME + 100,
    );
    expect(await harness.apply(partial)).toMatchObject({
      status: "applied",
      detail: expect.stringMatching(/partial refund .*\(1000 of 2500 usd refunded\): access unchanged/),
    });
    expect(await sso(customer)).toMatchObject({ status: "active" });
    expect(await harness.db.entitlementHold.count({ where: { customerId: customer } })).toBe(0);
    expect((await loadAccessLog(harness.db, customer)).map((row) => row.action)).toEqual(["grant", "grant"]);
  });

  it.each(["refund.created", "refund.updated", "charge.refund.updated"])(
    "%s (real refund payload) reads the charge from Stripe and finds its invoice through the payment intent",
    async (type) => {
      const { customer, subscription, invoice } = await customerWithAccess();
      const charge = aCharge({ customer, amount: 1000, amountRefunded: 1000 });
      serveCharge(charge);
      serveInvoicePaymentsOf(String(charge["payment_intent"]), invoice);
      const refund = realEvent(
        "2020-03-02__refund.created__stripe-sync-engine.json",
        (object) => ({
          ...object,
          id: stripeId("re"),
          charge: charge["id"],
          payment_intent: charge["payment_intent"],
        }),
        BASE_TIME + 100,
      );
      expect(await harness.apply({ ...refund, type })).toMatchObject({ status: "applied" });
      expect(await sso(customer)).toMatchObject({ status: "revoked", reason: "payment_refunded" });
      expect(
        await harness.db.entitlementHold.findUniqueOrThrow({
          where: { kind_reference: { kind: "refund", reference: String(charge["id"]) } },
        }),
      ).toMatchObject({ customerId: customer, subscriptionId: subscription, eventId: refund["id"] });
    },
  );

  it("a payment that paid no invoice holds the customer's subscriptions as a whole", async () => {
    const { customer } = await customerWithAccess();
    const charge = aCharge({ customer, amountRefunded: 2500 });
    serveCharge(charge);
    serveInvoicePaymentsOf(String(charge["payment_intent"]), null);
    const event = anEvent("refund.created", aRefund({ charge: String(charge["id"]) }), {
      created: BASE_TIME + 100,
    });
    expect(await harness.apply(event)).toMatchObject({ status: "applied" });
    expect(
      await harness.db.entitlementHold.findFirstOrThrow({ where: { customerId: customer } }),
    ).toMatchObject({
      subscriptionId: null,
    });
    expect(await sso(customer)).toMatchObject({ status: "revoked" });
  });

  it("a guest charge (no customer) is ignored with a reason", async () => {
    const charge = aCharge({ customer: null, amountRefunded: 2500 });
    expect(await harness.apply(anEvent("charge.refunded", charge))).toEqual({
      status: "ignored",
      reason: `charge ${charge["id"]} has no customer: no access to hold`,
    });
  });

  it("fails the event (to be retried) when Stripe cannot say whose charge was refunded", async () => {
    const chargeId = stripeId("ch");
    failStripe(`/v1/charges/${chargeId}`);
    await expect(harness.apply(anEvent("refund.created", aRefund({ charge: chargeId })))).rejects.toThrow();
  });
});

describe("disputes", () => {
  /** A `type` event from the real dispute payload, about `charge`, in `status`, stamped `offset` seconds in. */
  function disputeEvent(type: string, dispute: string, charge: Json, status: string, offset: number): Json {
    const event = realEvent(
      "2020-03-02__charge.dispute.created__stripe-sync-engine.json",
      (object) => ({
        ...object,
        id: dispute,
        charge: charge["id"],
        payment_intent: charge["payment_intent"],
        status,
      }),
      BASE_TIME + offset,
    );
    return { ...event, type };
  }

  async function disputedCustomer() {
    const owner = await customerWithAccess();
    const charge = aCharge({ customer: owner.customer });
    serveCharge(charge);
    serveInvoicePaymentsOf(String(charge["payment_intent"]), owner.invoice);
    return { ...owner, charge, dispute: stripeId("dp") };
  }

  it("an opened dispute revokes and a won dispute restores access, each logged with its event", async () => {
    const { customer, subscription, charge, dispute } = await disputedCustomer();
    const opened = disputeEvent("charge.dispute.created", dispute, charge, "needs_response", 100);
    const won = disputeEvent("charge.dispute.closed", dispute, charge, "won", 200);

    expect(await harness.apply(opened)).toMatchObject({ status: "applied" });
    expect(await sso(customer)).toMatchObject({ status: "revoked", reason: "payment_disputed" });
    expect(
      await harness.db.entitlementHold.findFirstOrThrow({ where: { customerId: customer } }),
    ).toMatchObject({
      kind: "dispute",
      reference: dispute,
      subscriptionId: subscription,
    });
    expect(await harness.apply(won)).toMatchObject({ status: "applied" });
    expect(await sso(customer)).toMatchObject({ status: "active", reason: "subscription_active" });

    const ssoLog = (await loadAccessLog(harness.db, customer)).filter((row) => row.feature === "sso");
    expect(ssoLog.map((row) => [row.action, row.eventId])).toEqual([
      ["grant", expect.any(String)],
      ["revoke", opened["id"]],
      ["grant", won["id"]],
    ]);
  });

  it("funds withdrawn then reinstated (won) follows the dispute's status", async () => {
    const { customer, charge, dispute } = await disputedCustomer();
    await harness.apply(
      disputeEvent("charge.dispute.funds_withdrawn", dispute, charge, "needs_response", 100),
    );
    expect(await sso(customer)).toMatchObject({ status: "revoked" });
    await harness.apply(disputeEvent("charge.dispute.funds_reinstated", dispute, charge, "won", 300));
    expect(await sso(customer)).toMatchObject({ status: "active" });
  });

  it("ignores the opening event when it is processed after the dispute was won", async () => {
    const { customer, charge, dispute } = await disputedCustomer();
    await harness.apply(disputeEvent("charge.dispute.closed", dispute, charge, "won", 200));
    expect(
      await harness.apply(disputeEvent("charge.dispute.created", dispute, charge, "needs_response", 100)),
    ).toEqual({ status: "skipped", reason: "stale: a newer event about this payment is already applied" });
    expect(await sso(customer)).toMatchObject({ status: "active" });
  });

  it("a lost dispute keeps access revoked", async () => {
    const { customer, charge, dispute } = await disputedCustomer();
    await harness.apply(disputeEvent("charge.dispute.updated", dispute, charge, "under_review", 100));
    await harness.apply(disputeEvent("charge.dispute.closed", dispute, charge, "lost", 200));
    expect(await sso(customer)).toMatchObject({ status: "revoked", reason: "payment_disputed" });
  });

  it("builds the same dispute from a builder as from the real payload", async () => {
    const { customer, charge } = await disputedCustomer();
    const event = anEvent(
      "charge.dispute.created",
      aDispute({ charge: String(charge["id"]), status: "needs_response" }),
      { created: BASE_TIME + 100 },
    );
    expect(await harness.apply(event)).toMatchObject({ status: "applied" });
    expect(await sso(customer)).toMatchObject({ status: "revoked", reason: "payment_disputed" });
  });
});
