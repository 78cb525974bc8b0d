import { describe, expect, it } from "vitest";
import { parseCatalog } from "../../../src/entitlements/catalog.js";
import { decideEntitlements } from "../../../src/entitlements/decide-entitlements.js";
import { decideHold, type PaymentReversal } from "../../../src/entitlements/decide-holds.js";
import type { DisputePolicy, RefundPolicy } from "../../../src/entitlements/settings.js";
import { aSubscription, NOW } from "./subscription-builder.js";

const refund = (fullyRefunded: boolean): PaymentReversal => ({
  kind: "refund",
  stripeCustomerId: "cus_1",
  reference: "ch_1",
  stripeSubscriptionId: null,
  stripeInvoiceId: null,
  fullyRefunded,
  eventId: "evt_1",
  eventCreated: NOW,
});
const dispute = (status: string): PaymentReversal => ({
  kind: "dispute",
  stripeCustomerId: "cus_1",
  reference: "dp_1",
  stripeSubscriptionId: null,
  stripeInvoiceId: null,
  status,
  eventId: "evt_1",
  eventCreated: NOW,
});
const policy = (revokeOnRefund: RefundPolicy, revokeOnDispute: DisputePolicy) => ({
  revokeOnRefund,
  revokeOnDispute,
});

describe("decideHold", () => {
  it.each([
    ["full refund, policy full", refund(true), policy("full", "opened"), "hold"],
    ["partial refund, policy full", refund(false), policy("full", "opened"), "none"],
    ["partial refund, policy any", refund(false), policy("any", "opened"), "hold"],
    ["full refund, policy never", refund(true), policy("never", "opened"), "none"],
    ["dispute opened, policy opened", dispute("needs_response"), policy("full", "opened"), "hold"],
    ["inquiry opened, policy opened", dispute("warning_needs_response"), policy("full", "opened"), "hold"],
    ["dispute opened, policy lost", dispute("needs_response"), policy("full", "lost"), "none"],
    ["dispute lost, policy lost", dispute("lost"), policy("full", "lost"), "hold"],
    ["dispute lost, policy opened", dispute("lost"), policy("full", "opened"), "hold"],
    ["dispute won", dispute("won"), policy("full", "opened"), "release"],
    ["inquiry closed", dispute("warning_closed"), policy("full", "lost"), "release"],
    ["dispute lost, policy never", dispute("lost"), policy("full", "never"), "none"],
  ] as const)("%s -> %s", (_name, reversal, chosen, action) => {
    expect(decideHold(reversal, chosen).action).toBe(action);
  });
});

describe("decideEntitlements with holds", () => {
  const catalog = parseCatalog(
    {
      features: { sso: { type: "boolean" } },
      plans: [{ match: { price: "price_pro_monthly" }, grants: { sso: true } }],
    },
    "inline.json",
  );

  it("revokes what a held subscription grants, keeping another subscription's grant", () => {
    const held = aSubscription();
    const other = aSubscription();
    const onlyHeld = decideEntitlements(catalog, [held], NOW, [
      { subscriptionId: held.id, reason: "payment_refunded", since: NOW },
    ]);
    expect(onlyHeld.features[0]).toMatchObject({ status: "revoked", reason: "payment_refunded" });
    const both = decideEntitlements(catalog, [held, other], NOW, [
      { subscriptionId: held.id, reason: "payment_refunded", since: NOW },
    ]);
    expect(both.features[0]).toMatchObject({ status: "active", sourceSubscriptionIds: [other.id] });
  });

  it("holds every subscription the customer had at the time when the subscription is unknown", () => {
    const before = aSubscription({ stripeCreated: new Date("2026-10-01T00:00:00Z") });
    const after = aSubscription({ stripeCreated: new Date("2026-11-15T00:00:00Z") });
    const hold = {
      subscriptionId: null,
      reason: "payment_disputed",
      since: new Date("2026-11-10T00:00:00Z"),
    };
    expect(decideEntitlements(catalog, [before], NOW, [hold]).features[0]).toMatchObject({
      status: "revoked",
      reason: "payment_disputed",
    });
    expect(decideEntitlements(catalog, [before, after], NOW, [hold]).features[0]).toMatchObject({
      status: "active",
      sourceSubscriptionIds: [after.id],
    });
  });

  it("keeps the subscription's own reason when it grants nothing anyway", () => {
    const canceled = aSubscription({ status: "canceled" });
    const decision = decideEntitlements(catalog, [canceled], NOW, [
      { subscriptionId: canceled.id, reason: "payment_refunded", since: NOW },
    ]);
    expect(decision.features[0]).toMatchObject({ status: "revoked", reason: "subscription_canceled" });
  });
});
