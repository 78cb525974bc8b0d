import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  aCustomer,
  anEvent,
  anInvoice,
  aPrice,
  aSubscription,
  BASE_TIME,
  stripeId,
} from "../../support/builders.js";
import { createSyncHarness, loadInvoice, loadSubscription, type SyncHarness } from "./sync-harness.js";

let harness: SyncHarness;
beforeAll(async () => {
  harness = await createSyncHarness();
});
afterAll(async () => {
  await harness.close();
});

const ROUNDS = 4;

describe("concurrent application", () => {
  it("ends in the newest snapshot when two snapshots of one new subscription are applied at once", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const base = { id: stripeId("sub"), customer: stripeId("cus") };
      // Half the rounds race to insert the customer's bare row too; the others only the subscription's.
      if (round % 2 === 1) await harness.apply(anEvent("customer.created", aCustomer({ id: base.customer })));
      const older = anEvent(
        "customer.subscription.updated",
        aSubscription({ ...base, status: "active", items: [{ quantity: 1 }] }),
        {
          created: BASE_TIME + 10,
        },
      );
      const newer = anEvent(
        "customer.subscription.updated",
        aSubscription({ ...base, status: "past_due", items: [{ quantity: 7 }] }),
        { created: BASE_TIME + 20 },
      );
      const deliveries = round % 4 < 2 ? [older, newer, older, newer] : [newer, older, newer, older];
      const outcomes = await Promise.all(deliveries.map((event) => harness.apply(event)));

      expect(outcomes.every((outcome) => outcome.status === "applied" || outcome.status === "skipped")).toBe(
        true,
      );
      const row = await loadSubscription(harness.db, base.id);
      expect(row).toMatchObject({ status: "past_due", eventId: newer["id"] });
      expect(row!.items.map((item) => item.quantity)).toEqual([7]);
      expect(await harness.db.customer.count({ where: { id: base.customer } })).toBe(1);
    }
  });

  it("ends canceled when the deletion races an update of the same second", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const base = { id: stripeId("sub"), customer: stripeId("cus") };
      const created = BASE_TIME + 30;
      const updated = anEvent(
        "customer.subscription.updated",
        aSubscription({ ...base, status: "active", cancelAtPeriodEnd: true }),
        {
          created,
        },
      );
      const deleted = anEvent(
        "customer.subscription.deleted",
        aSubscription({ ...base, status: "canceled" }),
        { created },
      );
      await Promise.all([updated, deleted, updated].map((event) => harness.apply(event)));
      expect(await loadSubscription(harness.db, base.id)).toMatchObject({
        status: "canceled",
        eventId: deleted["id"],
      });
    }
  });

  it("ends in the newest invoice when snapshots of one invoice and its lines are applied at once", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const base = { id: stripeId("in"), customer: stripeId("cus"), subscription: stripeId("sub") };
      const open = anEvent(
        "invoice.finalized",
        anInvoice({ ...base, status: "open", lines: [{ amount: 100 }] }),
        {
          created: BASE_TIME + 1,
        },
      );
      const paid = anEvent(
        "invoice.paid",
        anInvoice({ ...base, status: "paid", lines: [{ amount: 300 }, { amount: 50 }] }),
        {
          created: BASE_TIME + 2,
        },
      );
      await Promise.all([open, paid, open, paid].map((event) => harness.apply(event)));
      const invoice = await loadInvoice(harness.db, base.id);
      expect(invoice).toMatchObject({ status: "paid", eventId: paid["id"], total: 350n });
      expect(invoice!.lines.map((line) => line.amount).sort()).toEqual([300n, 50n].sort());
    }
  });

  it("applies subscriptions that embed the same new price at once, mirroring the price once", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const price = aPrice({
        unitAmount: null,
        unitAmountDecimal: "0.0025",
        usageType: "metered",
        meter: stripeId("mtr"),
      });
      const subscriptions = [1, 2, 3].map(() => aSubscription({ items: [{ price }] }));
      const outcomes = await Promise.all(
        subscriptions.map((subscription) =>
          harness.apply(anEvent("customer.subscription.created", subscription)),
        ),
      );
      expect(outcomes.map((outcome) => outcome.status)).toEqual(["applied", "applied", "applied"]);
      const row = await harness.db.price.findUnique({ where: { id: String(price["id"]) } });
      expect(row?.unitAmountDecimal?.toString()).toBe("0.0025");
      expect(await harness.db.subscriptionItem.count({ where: { priceId: String(price["id"]) } })).toBe(3);
    }
  });
});
