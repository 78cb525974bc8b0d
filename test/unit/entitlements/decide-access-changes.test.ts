import { describe, expect, it } from "vitest";
import {
  decideAccessChanges,
  type StoredEntitlement,
} from "../../../src/entitlements/decide-access-changes.js";
import type { FeatureEntitlement } from "../../../src/entitlements/decide-entitlements.js";

const start = new Date("2026-11-01T00:00:00Z");
const end = new Date("2026-12-01T00:00:00Z");

function decided(overrides: Partial<FeatureEntitlement> = {}): FeatureEntitlement {
  return {
    feature: "api_calls",
    status: "active",
    limit: "1000",
    reset: "billing_period",
    periodStart: start,
    periodEnd: end,
    graceUntil: null,
    reason: "subscription_active",
    sourceSubscriptionIds: ["sub_a", "sub_b"],
    ...overrides,
  };
}

function stored(overrides: Partial<StoredEntitlement> = {}): StoredEntitlement {
  return {
    feature: "api_calls",
    status: "active",
    limit: "1000.000000000000",
    reset: "billing_period",
    periodStart: start,
    periodEnd: end,
    graceUntil: null,
    reason: "subscription_active",
    source: "sub_a,sub_b",
    ...overrides,
  };
}

describe("decideAccessChanges", () => {
  it("changes nothing when the stored row already says what was decided", () => {
    expect(decideAccessChanges([stored()], [decided()])).toEqual([]);
  });

  it("grants a feature with no row yet", () => {
    const [change] = decideAccessChanges([], [decided()]);
    expect(change).toMatchObject({ feature: "api_calls", action: "grant", before: null });
    expect(change!.after).toEqual({
      status: "active",
      limit: "1000",
      reset: "billing_period",
      period_start: start.toISOString(),
      period_end: end.toISOString(),
      grace_until: null,
      reason: "subscription_active",
      source: ["sub_a", "sub_b"],
    });
  });

  it("writes no row for a feature that was never granted", () => {
    expect(
      decideAccessChanges([], [decided({ status: "revoked", reason: "subscription_incomplete" })]),
    ).toEqual([]);
  });

  it.each([
    ["active -> grace", "active", "grace", "change"],
    ["active -> revoked", "active", "revoked", "revoke"],
    ["grace -> revoked", "grace", "revoked", "revoke"],
    ["revoked -> active", "revoked", "active", "grant"],
    ["revoked -> grace", "revoked", "grace", "grant"],
  ] as const)("%s is a %s", (_name, from, to, action) => {
    const [change] = decideAccessChanges([stored({ status: from })], [decided({ status: to })]);
    expect(change).toMatchObject({ action, before: { status: from }, after: { status: to } });
  });

  it("logs a new billing period or limit as a change", () => {
    const next = decideAccessChanges(
      [stored()],
      [decided({ periodStart: end, periodEnd: new Date("2027-01-01") })],
    );
    expect(next).toMatchObject([{ action: "change" }]);
    expect(decideAccessChanges([stored()], [decided({ limit: "2000" })])).toMatchObject([
      { action: "change", before: { limit: "1000" }, after: { limit: "2000" } },
    ]);
  });

  it("revokes a granted feature no subscription grants any more, and leaves revoked rows alone", () => {
    const changes = decideAccessChanges(
      [stored({ feature: "sso", limit: null }), stored({ feature: "seats", status: "revoked" })],
      [],
    );
    expect(changes).toEqual([
      {
        feature: "sso",
        action: "revoke",
        before: expect.objectContaining({ status: "active" }),
        after: expect.objectContaining({ status: "revoked", reason: "no_plan_grants_feature", source: [] }),
      },
    ]);
  });
});
