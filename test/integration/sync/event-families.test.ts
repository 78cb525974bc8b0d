import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  aCustomer,
  anEvent,
  anInvoice,
  aPrice,
  aSubscription,
  type SubscriptionStatus,
} from "../../support/builders.js";
import { createSyncHarness, loadInvoice, loadSubscription, type SyncHarness } from "./sync-harness.js";

let harness: SyncHarness;
beforeAll(async () => {
  harness = await createSyncHarness();
});
afterAll(async () => {
  await harness.close();
});

describe("event families", () => {
  it.each<[string, SubscriptionStatus]>([
    ["customer.subscription.created", "incomplete"],
    ["customer.subscription.updated", "past_due"],
    ["customer.subscription.deleted", "canceled"],
    ["customer.subscription.paused", "paused"],
    ["customer.subscription.resumed", "active"],
    ["customer.subscription.pending_update_applied", "active"],
    ["customer.subscription.pending_update_expired", "active"],
    ["customer.subscription.trial_will_end", "trialing"],
  ])("%s mirrors the subscription", async (type, status) => {
    const subscription = aSubscription({ status, shape: "basil" });
    expect(await harness.apply(anEvent(type, subscription))).toMatchObject({ status: "applied" });
    expect(await loadSubscription(harness.db, String(subscription["id"]))).toMatchObject({ status });
  });

  it.each([
    ["invoice.created", "draft", "draft"],
    ["invoice.finalized", "open", "open"],
    ["invoice.updated", "open", "open"],
    ["invoice.payment_failed", "open", "open"],
    ["invoice.paid", "paid", "paid"],
    ["invoice.payment_succeeded", "paid", "paid"],
    ["invoice.voided", "void", "void"],
    ["invoice.marked_uncollectible", "uncollectible", "uncollectible"],
    ["invoice.deleted", "draft", "deleted"],
  ] as const)("%s mirrors the invoice (%s) as %s", async (type, status, stored) => {
    const invoice = anInvoice({ status, subscription: "sub_family" });
    expect(await harness.apply(anEvent(type, invoice))).toMatchObject({ status: "applied" });
    const row = await loadInvoice(harness.db, String(invoice["id"]));
    expect(row).toMatchObject({ status: stored, subscriptionId: "sub_family" });
    expect(row!.lines).toHaveLength(1);
  });

  it.each(["customer.created", "customer.updated"])("%s mirrors the customer", async (type) => {
    const customer = aCustomer({ name: type });
    expect(await harness.apply(anEvent(type, customer))).toMatchObject({ status: "applied" });
    expect(await harness.db.customer.findUnique({ where: { id: String(customer["id"]) } })).toMatchObject({
      name: type,
      deleted: false,
    });
  });

  it("customer.deleted with the whole customer marks it deleted", async () => {
    const customer = aCustomer();
    expect(await harness.apply(anEvent("customer.deleted", customer))).toMatchObject({ status: "applied" });
    expect(await harness.db.customer.findUnique({ where: { id: String(customer["id"]) } })).toMatchObject({
      deleted: true,
      email: "customer@example.com",
    });
  });

  it.each(["price.created", "price.updated"])("%s mirrors the price", async (type) => {
    const price = aPrice({
      unitAmount: null,
      unitAmountDecimal: "0.000381",
      usageType: "metered",
      meter: "mtr_1",
    });
    expect(await harness.apply(anEvent(type, price))).toMatchObject({ status: "applied" });
    const row = await harness.db.price.findUnique({ where: { id: String(price["id"]) } });
    expect(row).toMatchObject({ unitAmount: null, usageType: "metered", meterId: "mtr_1" });
    expect(row!.unitAmountDecimal?.toString()).toBe("0.000381");
  });

  it.each([
    "invoice.upcoming",
    "price.deleted",
    "payment_intent.succeeded",
    "customer.subscription.unknown_future_event",
  ])("%s is ignored with a reason", async (type) => {
    const outcome = await harness.apply(anEvent(type, anInvoice()));
    expect(outcome.status).toBe("ignored");
    if (outcome.status === "ignored")
      expect(outcome.reason).toMatch(type === "invoice.upcoming" ? /no invoice id/ : type);
  });
});
