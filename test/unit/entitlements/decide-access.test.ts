import { describe, expect, it } from "vitest";
import type { FeatureDefinition } from "../../../src/entitlements/catalog.js";
import { decideCheck, decideFeatureAccess } from "../../../src/entitlements/decide-access.js";
import type { FeatureEntitlement } from "../../../src/entitlements/decide-entitlements.js";
import { Quantity } from "../../../src/entitlements/quantity.js";

const metered: FeatureDefinition = {
  key: "tokens",
  type: "metered",
  stripeMeterEventName: "llm_tokens",
  stripePrice: null,
  unitCost: null,
  description: null,
};
const sso: FeatureDefinition = { key: "sso", type: "boolean", description: null };
const seats: FeatureDefinition = { key: "seats", type: "static", description: null };
const periodEnd = new Date("2026-12-01T00:00:00Z");

function entitlement(overrides: Partial<FeatureEntitlement> = {}): FeatureEntitlement {
  return {
    feature: "tokens",
    status: "active",
    limit: "1000",
    reset: "billing_period",
    periodStart: new Date("2026-11-01T00:00:00Z"),
    periodEnd,
    graceUntil: null,
    reason: "subscription_active",
    sourceSubscriptionIds: ["sub_1"],
    ...overrides,
  };
}

const q = (value: string) => new Quantity(value);

describe("decideFeatureAccess", () => {
  it("reports what is left of a metered limit this period", () => {
    expect(decideFeatureAccess(metered, entitlement(), q("250.5"))).toEqual({
      feature: "tokens",
      status: "active",
      hasAccess: true,
      limit: "1000",
      used: "250.5",
      remaining: "749.5",
      resetsAt: periodEnd,
      graceUntil: null,
      reason: "subscription_active",
    });
  });

  it("denies once the limit is reached, never reporting a negative remainder", () => {
    expect(decideFeatureAccess(metered, entitlement(), q("1000"))).toMatchObject({
      hasAccess: false,
      remaining: "0",
      reason: "limit_reached",
    });
    expect(decideFeatureAccess(metered, entitlement(), q("1200"))).toMatchObject({
      remaining: "0",
      used: "1200",
    });
  });

  it("reports usage but no remainder when unlimited", () => {
    expect(decideFeatureAccess(metered, entitlement({ limit: null }), q("99"))).toMatchObject({
      hasAccess: true,
      limit: null,
      used: "99",
      remaining: null,
    });
  });

  it("has no reset date for a lifetime limit", () => {
    expect(decideFeatureAccess(metered, entitlement({ reset: "never" }), q("1")).resetsAt).toBeNull();
  });

  it("keeps access during grace, saying until when", () => {
    const graceUntil = new Date("2026-11-25T00:00:00Z");
    expect(
      decideFeatureAccess(
        metered,
        entitlement({ status: "grace", graceUntil, reason: "payment_past_due" }),
        q("1"),
      ),
    ).toMatchObject({ hasAccess: true, status: "grace", graceUntil, reason: "payment_past_due" });
  });

  it("denies a revoked feature with the revocation's reason", () => {
    expect(
      decideFeatureAccess(
        metered,
        entitlement({ status: "revoked", limit: null, reason: "subscription_canceled" }),
        null,
      ),
    ).toMatchObject({
      hasAccess: false,
      status: "revoked",
      limit: null,
      used: null,
      reason: "subscription_canceled",
    });
  });

  it("denies a feature no plan of the customer's grants", () => {
    expect(decideFeatureAccess(sso, undefined, null)).toMatchObject({
      hasAccess: false,
      status: "none",
      reason: "no_plan_grants_feature",
    });
  });

  it("reports boolean and static features without usage", () => {
    expect(
      decideFeatureAccess(sso, entitlement({ feature: "sso", limit: null, reset: null }), null),
    ).toMatchObject({
      hasAccess: true,
      limit: null,
      used: null,
      remaining: null,
      resetsAt: null,
    });
    expect(
      decideFeatureAccess(seats, entitlement({ feature: "seats", limit: "5", reset: null }), null),
    ).toMatchObject({
      hasAccess: true,
      limit: "5",
      used: null,
    });
  });
});

describe("decideCheck", () => {
  const access = decideFeatureAccess(metered, entitlement(), q("900"));

  it("allows a quantity that fits in what is left", () => {
    expect(decideCheck(access, q("100"))).toEqual({
      allowed: true,
      remaining: "100",
      reason: "subscription_active",
    });
  });

  it("refuses a quantity beyond what is left", () => {
    expect(decideCheck(access, q("100.1"))).toEqual({
      allowed: false,
      remaining: "100",
      reason: "would_exceed_limit",
    });
  });

  it("refuses when the limit is already reached or access is gone", () => {
    expect(decideCheck(decideFeatureAccess(metered, entitlement(), q("1000")), q("1"))).toMatchObject({
      allowed: false,
      reason: "limit_reached",
    });
    expect(decideCheck(decideFeatureAccess(sso, undefined, null), q("1"))).toMatchObject({
      allowed: false,
      reason: "no_plan_grants_feature",
    });
  });

  it("checks a static amount against the granted amount", () => {
    const seatAccess = decideFeatureAccess(
      seats,
      entitlement({ feature: "seats", limit: "5", reset: null }),
      null,
    );
    expect(decideCheck(seatAccess, q("5")).allowed).toBe(true);
    expect(decideCheck(seatAccess, q("6"))).toMatchObject({ allowed: false, reason: "would_exceed_limit" });
  });

  it("allows any quantity when unlimited", () => {
    const unlimited = decideFeatureAccess(metered, entitlement({ limit: null }), q("1000000"));
    expect(decideCheck(unlimited, q("1000000"))).toEqual({
      allowed: true,
      remaining: null,
      reason: "subscription_active",
    });
  });
});
