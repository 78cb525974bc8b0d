import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anEvent, anInvoice, aSubscription, type InvoiceStatus, stripeId } from "../../support/builders.js";
import { createSyncHarness, loadAccessLog, PRO_PRICE, type SyncHarness } from "./sync-harness.js";

let harness: SyncHarness;
beforeAll(async () => {
  harness = await createSyncHarness();
});
afterAll(async () => {
  await harness.close();
});

const DAY = 86_400;
const nowUnix = () => Math.floor(Date.now() / 1000);

/**
 * A past_due subscription renewed two days ago (inside the 7-day grace on its own), and an invoice from the period
 * before that, due ten days ago: once that invoice is open, the grace counts from it and is over.
 */
async function pastDueWithOverdueInvoice() {
  const customer = stripeId("cus");
  const subscription = stripeId("sub");
  const now = nowUnix();
  await harness.apply(
    anEvent(
      "customer.subscription.updated",
      aSubscription({
        id: subscription,
        customer,
        status: "past_due",
        created: now - 60 * DAY,
        currentPeriodStart: now - 2 * DAY,
        items: [{ price: { id: PRO_PRICE } }],
      }),
      { created: now - DAY },
    ),
  );
  const invoice = (status: InvoiceStatus) =>
    anInvoice({
      id: `in_${subscription}`,
      customer,
      subscription,
      status,
      created: now - 12 * DAY,
      periodStart: now - 40 * DAY,
      periodEnd: now - 10 * DAY,
    });
  return { customer, subscription, invoice, now };
}

const sso = (customerId: string) =>
  harness.db.entitlement.findUniqueOrThrow({ where: { customerId_feature: { customerId, feature: "sso" } } });

describe("invoice status and access", () => {
  it.each<[string, InvoiceStatus]>([
    ["invoice.paid", "paid"],
    ["invoice.voided", "void"],
    ["invoice.marked_uncollectible", "uncollectible"],
  ])(
    "an open invoice older than the grace revokes a past_due subscription; %s restores it",
    async (type, status) => {
      const { customer, invoice, now } = await pastDueWithOverdueInvoice();
      expect(await sso(customer)).toMatchObject({ status: "grace", reason: "payment_past_due" });

      const finalized = anEvent("invoice.finalized", invoice("open"), { created: now - 100 });
      expect(await harness.apply(finalized)).toMatchObject({ status: "applied" });
      expect(await sso(customer)).toMatchObject({
        status: "revoked",
        reason: "payment_past_due_grace_expired",
      });

      const settled = anEvent(type, invoice(status), { created: now - 50 });
      expect(await harness.apply(settled)).toMatchObject({ status: "applied" });
      expect(await sso(customer)).toMatchObject({ status: "grace", reason: "payment_past_due" });

      const ssoLog = (await loadAccessLog(harness.db, customer)).filter((row) => row.feature === "sso");
      expect(ssoLog.map((row) => [row.action, row.cause])).toEqual([
        ["grant", expect.stringMatching(/^event:evt_/)],
        ["revoke", `event:${finalized["id"]}`],
        ["grant", `event:${settled["id"]}`],
      ]);
    },
  );

  it("an invoice event that leaves the status as it was re-decides nothing", async () => {
    const { customer, invoice, now } = await pastDueWithOverdueInvoice();
    await harness.apply(anEvent("invoice.finalized", invoice("open"), { created: now - 100 }));
    const before = await loadAccessLog(harness.db, customer);
    expect(
      await harness.apply(anEvent("invoice.payment_failed", invoice("open"), { created: now - 90 })),
    ).toMatchObject({ status: "applied" });
    expect(await loadAccessLog(harness.db, customer)).toEqual(before);
  });
});
