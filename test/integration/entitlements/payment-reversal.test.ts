import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppContext } from "../../../src/app-context.js";
import { type Config, loadConfig } from "../../../src/config/config.js";
import type { Db } from "../../../src/db/client.js";
import { applyEntitlementsForCustomer } from "../../../src/entitlements/apply-entitlements.js";
import { applyPaymentReversal } from "../../../src/entitlements/apply-payment-reversal.js";
import type { PaymentReversal } from "../../../src/entitlements/decide-holds.js";
import type { TestApp } from "../../support/app.js";
import { TEST_SECRETS } from "../../support/env.js";
import { createEntitlementTestApp, DAY_MS, fromNow, insertCustomer, insertSubscription } from "./support.js";

let testApp: TestApp;
let db: Db;

beforeAll(async () => {
  testApp = await createEntitlementTestApp();
  db = testApp.db;
});
afterAll(async () => testApp?.close());

let seq = 0;
function withPolicy(policy: Record<string, string>): AppContext {
  return { ...testApp.ctx, config: { ...testApp.ctx.config, ...policy } as Config };
}

function refundOf(customerId: string, overrides: Partial<Extract<PaymentReversal, { kind: "refund" }>> = {}) {
  seq += 1;
  return {
    kind: "refund",
    stripeCustomerId: customerId,
    reference: `ch_${seq}`,
    stripeSubscriptionId: null,
    stripeInvoiceId: null,
    fullyRefunded: true,
    eventId: `evt_refund_${seq}`,
    eventCreated: new Date(),
    ...overrides,
  } satisfies PaymentReversal;
}

function disputeOf(
  customerId: string,
  reference: string,
  status: string,
  eventCreated: Date,
): PaymentReversal {
  seq += 1;
  return {
    kind: "dispute",
    stripeCustomerId: customerId,
    reference,
    stripeSubscriptionId: null,
    stripeInvoiceId: null,
    status,
    eventId: `evt_dispute_${seq}`,
    eventCreated,
  };
}

/** A customer whose subscriptions were created a month ago and are already applied. */
async function customerWith(subscriptions: number) {
  const customerId = await insertCustomer(db);
  const ids: string[] = [];
  for (let i = 0; i < subscriptions; i++) {
    const id = await insertSubscription(db, customerId);
    await db.subscription.update({ where: { id }, data: { stripeCreated: fromNow(-30 * DAY_MS) } });
    ids.push(id);
  }
  await applyEntitlementsForCustomer(testApp.ctx, customerId, { cause: "event:evt_setup" });
  return { customerId, subscriptionIds: ids };
}

const sso = (customerId: string) =>
  db.entitlement.findUniqueOrThrow({ where: { customerId_feature: { customerId, feature: "sso" } } });

describe("refunds", () => {
  it("a full refund revokes access at once, logging the refund event", async () => {
    const { customerId } = await customerWith(1);
    const refund = refundOf(customerId);
    const outcome = await applyPaymentReversal(testApp.ctx, refund);
    expect(outcome.hold).toBe("held");
    expect(await sso(customerId)).toMatchObject({ status: "revoked", reason: "payment_refunded" });
    const revoke = await db.accessLog.findFirstOrThrow({
      where: { customerId, feature: "sso", action: "revoke" },
    });
    expect(revoke).toMatchObject({ cause: `event:${refund.eventId}`, eventId: refund.eventId });

    const again = await applyPaymentReversal(testApp.ctx, refund);
    expect(again.hold).toBe("unchanged");
    expect(again.entitlements.changes).toEqual([]);
  });

  it("a partial refund keeps access under the default policy, and revokes under 'any'", async () => {
    const { customerId } = await customerWith(1);
    const partial = refundOf(customerId, { fullyRefunded: false });
    expect((await applyPaymentReversal(testApp.ctx, partial)).hold).toBe("unchanged");
    expect(await sso(customerId)).toMatchObject({ status: "active" });

    await applyPaymentReversal(withPolicy({ revokeOnRefund: "any" }), partial);
    expect(await sso(customerId)).toMatchObject({ status: "revoked", reason: "payment_refunded" });
  });

  it("holds only the subscription the refunded invoice paid for", async () => {
    const { customerId, subscriptionIds } = await customerWith(2);
    const [refunded, kept] = subscriptionIds as [string, string];
    await db.invoice.create({
      data: { id: `in_${refunded}`, customerId, subscriptionId: refunded, status: "paid", currency: "usd" },
    });
    await applyPaymentReversal(testApp.ctx, refundOf(customerId, { stripeInvoiceId: `in_${refunded}` }));
    expect(await sso(customerId)).toMatchObject({ status: "active", source: kept });
    expect(await db.entitlementHold.findFirst({ where: { customerId } })).toMatchObject({
      subscriptionId: refunded,
    });
  });

  it("does nothing under the policy 'never', and names a bad policy value", async () => {
    const { customerId } = await customerWith(1);
    await applyPaymentReversal(withPolicy({ revokeOnRefund: "never" }), refundOf(customerId));
    expect(await sso(customerId)).toMatchObject({ status: "active" });
    // A bad policy never gets this far: configuration refuses it at start, naming the variable.
    expect(() => loadConfig({ ...TEST_SECRETS, LEAKGUARD_REVOKE_ON_REFUND: "sometimes" })).toThrow(
      "LEAKGUARD_REVOKE_ON_REFUND",
    );
  });
});

describe("disputes", () => {
  it("an opened dispute revokes and a won dispute restores access", async () => {
    const { customerId } = await customerWith(1);
    const opened = new Date();
    await applyPaymentReversal(testApp.ctx, disputeOf(customerId, "dp_won", "needs_response", opened));
    expect(await sso(customerId)).toMatchObject({ status: "revoked", reason: "payment_disputed" });

    const won = await applyPaymentReversal(
      testApp.ctx,
      disputeOf(customerId, "dp_won", "won", new Date(opened.getTime() + 1000)),
    );
    expect(won.hold).toBe("released");
    expect(await sso(customerId)).toMatchObject({ status: "active", reason: "subscription_active" });
    const actions = await db.accessLog.findMany({
      where: { customerId, feature: "sso" },
      orderBy: { createdAt: "asc" },
    });
    expect(actions.map((entry) => entry.action)).toEqual(["grant", "revoke", "grant"]);
  });

  it("ignores the opening event when it arrives after the dispute was won", async () => {
    const { customerId } = await customerWith(1);
    const opened = new Date();
    await applyPaymentReversal(
      testApp.ctx,
      disputeOf(customerId, "dp_late", "won", new Date(opened.getTime() + 1000)),
    );
    const late = await applyPaymentReversal(
      testApp.ctx,
      disputeOf(customerId, "dp_late", "needs_response", opened),
    );
    expect(late.hold).toBe("stale");
    expect(await sso(customerId)).toMatchObject({ status: "active" });
  });

  it("under the policy 'lost', keeps access until the dispute is lost", async () => {
    const { customerId } = await customerWith(1);
    const ctx = withPolicy({ revokeOnDispute: "lost" });
    const opened = new Date();
    await applyPaymentReversal(ctx, disputeOf(customerId, "dp_lost", "under_review", opened));
    expect(await sso(customerId)).toMatchObject({ status: "active" });
    await applyPaymentReversal(
      ctx,
      disputeOf(customerId, "dp_lost", "lost", new Date(opened.getTime() + 1000)),
    );
    expect(await sso(customerId)).toMatchObject({ status: "revoked", reason: "payment_disputed" });
  });

  it("a hold on the customer does not reach a subscription started after it", async () => {
    const { customerId } = await customerWith(1);
    await applyPaymentReversal(
      testApp.ctx,
      disputeOf(customerId, "dp_old", "needs_response", fromNow(-DAY_MS)),
    );
    expect(await sso(customerId)).toMatchObject({ status: "revoked" });
    const fresh = await insertSubscription(db, customerId);
    await db.subscription.update({ where: { id: fresh }, data: { stripeCreated: new Date() } });
    await applyEntitlementsForCustomer(testApp.ctx, customerId, { cause: "event:evt_resubscribed" });
    expect(await sso(customerId)).toMatchObject({ status: "active", source: fresh });
  });
});
