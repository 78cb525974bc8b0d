import nock from "nock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  API_VERSIONS,
  type ApiShape,
  anEvent,
  anInvoice,
  type Json,
  stripeId,
} from "../../support/builders.js";
import { aCharge, aDispute, anInvoicePaymentList, type DisputeStatus } from "../sync/payment-builders.js";
import {
  aCustomerSubscription,
  addonPrice,
  byEvent,
  createScenarios,
  DAY,
  eventAt,
  nowSeconds,
  PRO_FEATURES,
  proPrice,
  rowsFor,
  type Scenarios,
  SHAPES,
} from "./scenario-harness.js";

/** nock answers here; nothing listens. */
const STRIPE_API_BASE = "http://stripe.access-scenarios.test";

let scenarios: Scenarios;
beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  scenarios = await createScenarios({ env: { STRIPE_API_BASE } });
});
afterAll(async () => {
  nock.cleanAll();
  nock.enableNetConnect();
  await scenarios?.close();
});

/** Charge and dispute events carry no shape marker of their own: the envelope names the endpoint's version. */
const paymentEvent = (shape: ApiShape, type: string, object: Json, created: number) =>
  anEvent(type, object, { created, apiVersion: API_VERSIONS[shape] });

/**
 * A Pro subscriber whose first invoice was paid by a charge. Stripe serves the charge (disputes name it by id)
 * and, from basil on (a charge no longer names its invoice), the invoice payments of its payment intent.
 */
async function paidSubscriber(shape: ApiShape, price = proPrice(shape), customer?: string) {
  const now = nowSeconds();
  const start = now - 10 * DAY;
  const sub = aCustomerSubscription(shape, {
    ...(customer === undefined ? {} : { customer }),
    created: start,
    items: [{ id: stripeId("si"), price }],
  });
  const invoiceId = stripeId("in");
  const paymentIntent = stripeId("pi");
  const charge = (amountRefunded = 0) =>
    aCharge({
      customer: sub.customer,
      invoice: invoiceId,
      paymentIntent,
      amount: 5000,
      amountRefunded,
      created: start,
      shape,
    });
  const chargeId = String(charge()["id"]);
  nock(STRIPE_API_BASE).persist().get(`/v1/charges/${chargeId}`).query(true).reply(200, charge());
  nock(STRIPE_API_BASE)
    .persist()
    .get("/v1/invoice_payments")
    .query((query) => JSON.stringify(query).includes(paymentIntent))
    .reply(200, anInvoicePaymentList(paymentIntent, invoiceId));

  const created = eventAt("customer.subscription.created", sub.snapshot(), start);
  const paid = eventAt(
    "invoice.paid",
    anInvoice({
      id: invoiceId,
      customer: sub.customer,
      subscription: sub.id,
      shape,
      status: "paid",
      billingReason: "subscription_create",
      created: start,
      periodStart: start,
      periodEnd: start,
      lines: [{ subscription: sub.id, price }],
    }),
    start + 5,
  );
  await scenarios.deliver(created, paid);
  const refunded = (amount: number, at: number) => paymentEvent(shape, "charge.refunded", charge(amount), at);
  const dispute = (id: string, type: string, status: DisputeStatus, at: number) =>
    paymentEvent(
      shape,
      type,
      aDispute({ id, charge: chargeId, paymentIntent, status, amount: 5000, created: at }),
      at,
    );
  return { ...sub, now, created, refunded, dispute };
}

describe.each(SHAPES)("refunds and disputes, %s API shape", (shape) => {
  it("a full refund revokes the access the payment bought, logged with the refund event", async () => {
    const { customer, now, created, refunded } = await paidSubscriber(shape);
    const refund = refunded(5000, now - 60);
    await scenarios.deliver(refund);

    expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
      has_access: false,
      status: "revoked",
      reason: "payment_refunded",
    });
    expect(await scenarios.check(customer, "api_calls", 1)).toMatchObject({
      allowed: false,
      reason: "payment_refunded",
    });
    await scenarios.expectLog(customer, [
      ...rowsFor(PRO_FEATURES, "grant", byEvent(created)),
      ...rowsFor(PRO_FEATURES, "revoke", byEvent(refund)),
    ]);
  });

  it("a partial refund keeps access under the default policy, logging nothing", async () => {
    const { customer, now, created, refunded } = await paidSubscriber(shape);
    await scenarios.deliver(refunded(1000, now - 60));

    expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
      has_access: true,
      reason: "subscription_active",
    });
    await scenarios.expectLog(customer, rowsFor(PRO_FEATURES, "grant", byEvent(created)));
  });

  it("a refund of one subscription's payment leaves what the customer's other subscription grants", async () => {
    const pro = await paidSubscriber(shape);
    const addon = await paidSubscriber(shape, addonPrice(shape), pro.customer);
    const refund = pro.refunded(5000, pro.now - 60);
    await scenarios.deliver(refund);

    expect(await scenarios.entitlement(pro.customer, "reports")).toMatchObject({
      has_access: false,
      reason: "payment_refunded",
    });
    expect(await scenarios.entitlement(pro.customer, "exports")).toMatchObject({ has_access: true });
    expect(await scenarios.entitlement(pro.customer, "api_calls")).toMatchObject({
      has_access: true,
      limit: "5000",
    });
    await scenarios.expectLog(pro.customer, [
      ...rowsFor(PRO_FEATURES, "grant", byEvent(pro.created)),
      ["api_calls", "change", byEvent(addon.created)],
      ["exports", "grant", byEvent(addon.created)],
      ["api_calls", "change", byEvent(refund)],
      ["reports", "revoke", byEvent(refund)],
      ["seats", "revoke", byEvent(refund)],
    ]);
  });

  it("a dispute revokes when it opens and restores access when it is won", async () => {
    const { customer, now, created, dispute } = await paidSubscriber(shape);
    const disputeId = stripeId("dp");
    const opened = dispute(disputeId, "charge.dispute.created", "needs_response", now - 120);
    await scenarios.deliver(opened);
    expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
      has_access: false,
      reason: "payment_disputed",
    });

    const won = dispute(disputeId, "charge.dispute.closed", "won", now - 60);
    await scenarios.deliver(won);
    expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
      has_access: true,
      reason: "subscription_active",
    });
    await scenarios.expectLog(customer, [
      ...rowsFor(PRO_FEATURES, "grant", byEvent(created)),
      ...rowsFor(PRO_FEATURES, "revoke", byEvent(opened)),
      ...rowsFor(PRO_FEATURES, "grant", byEvent(won)),
    ]);
  });

  it("a lost dispute keeps access revoked, with no second revoke", async () => {
    const { customer, now, created, dispute } = await paidSubscriber(shape);
    const disputeId = stripeId("dp");
    const opened = dispute(disputeId, "charge.dispute.created", "needs_response", now - 120);
    const lost = dispute(disputeId, "charge.dispute.closed", "lost", now - 60);
    await scenarios.deliver(opened, lost);
    expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
      has_access: false,
      reason: "payment_disputed",
    });
    await scenarios.expectLog(customer, [
      ...rowsFor(PRO_FEATURES, "grant", byEvent(created)),
      ...rowsFor(PRO_FEATURES, "revoke", byEvent(opened)),
    ]);
  });

  it("a dispute won before its opening event arrives never revokes", async () => {
    const { customer, now, created, dispute } = await paidSubscriber(shape);
    const disputeId = stripeId("dp");
    const opened = dispute(disputeId, "charge.dispute.created", "needs_response", now - 120);
    const won = dispute(disputeId, "charge.dispute.closed", "won", now - 60);
    await scenarios.deliver(won, opened);
    expect(await scenarios.entitlement(customer, "reports")).toMatchObject({
      has_access: true,
      reason: "subscription_active",
    });
    await scenarios.expectLog(customer, rowsFor(PRO_FEATURES, "grant", byEvent(created)));
  });

  it("the refund event delivered twice revokes once", async () => {
    const { customer, now, created, refunded } = await paidSubscriber(shape);
    const refund = refunded(5000, now - 60);
    await scenarios.deliver(refund);
    await scenarios.post(refund);
    expect(await scenarios.process(String(refund["id"]))).toEqual({ status: "processed", skipped: true });
    await scenarios.expectLog(customer, [
      ...rowsFor(PRO_FEATURES, "grant", byEvent(created)),
      ...rowsFor(PRO_FEATURES, "revoke", byEvent(refund)),
    ]);
  });
});
