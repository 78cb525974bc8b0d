import { describe, expect, it } from "vitest";
import {
  checkAccessNotRevoked,
  explainLapse,
  findAccessWindows,
  findLapsedSubscriptionIds,
} from "../../../src/reconcile/checks/access-not-revoked.js";
import type { MirroredSubscription, SubscriptionSnapshot } from "../../../src/reconcile/snapshots.js";
import { usageWindowKey } from "../../../src/reconcile/usage-windows.js";
import {
  API_CALLS,
  anEntitlement,
  aPrice,
  aSubscription,
  DEC_1,
  METERS,
  pricesOf,
  TOKENS,
} from "./builders.js";

const ENDED = new Date("2026-11-20T00:00:00Z");
const canceled = aSubscription({ status: "canceled", canceledAt: ENDED, endedAt: ENDED });

function input(
  subscriptions: SubscriptionSnapshot[],
  entitlements = [anEntitlement()],
  mirroredSubscriptions: ReadonlyMap<string, MirroredSubscription> = new Map(),
) {
  return {
    mirroredSubscriptions,
    prices: pricesOf(aPrice()),
    meterEventNames: METERS,
    features: [TOKENS, API_CALLS],
    entitlements,
    subscriptionsByCustomer: new Map([["cus_a", subscriptions]]),
    periodTo: DEC_1,
    fallbackCurrency: "usd",
  };
}

describe("checkAccessNotRevoked", () => {
  it.each(["trialing", "active", "past_due"])("a %s subscription still entitles: no finding", (status) => {
    const subscriptions = [canceled, aSubscription({ id: "sub_new", status })];
    expect(findAccessWindows(input(subscriptions))).toEqual([]);
    expect(checkAccessNotRevoked({ ...input(subscriptions), usage: new Map() })).toEqual([]);
  });

  it("prices usage recorded after the subscription ended at the ended item's price", () => {
    const given = input(
      [canceled],
      [anEntitlement(), anEntitlement({ feature: "api_calls", status: "grace" })],
    );
    const windows = findAccessWindows(given);
    expect(windows).toEqual([
      { customerId: "cus_a", feature: "tokens", from: ENDED, to: DEC_1 },
      { customerId: "cus_a", feature: "api_calls", from: ENDED, to: DEC_1 },
    ]);
    const usage = new Map([
      [usageWindowKey(windows[0]!), "1000000"],
      [usageWindowKey(windows[1]!), "77"],
    ]);
    const findings = checkAccessNotRevoked({ ...given, usage });
    expect(findings).toHaveLength(2);
    expect(findings[0]).toMatchObject({
      category: "access_not_revoked",
      customerId: "cus_a",
      feature: "tokens",
      expected: "revoked",
      actual: "active",
      amountMinor: "381", // 1,000,000 × 0.000381 cents
      currency: "usd",
      evidence: {
        subscription: "sub_a",
        ended_at: ENDED.toISOString().replace(".000Z", "Z"),
        usage_after_end: "1000000",
        subscription_item: "si_tokens",
        price: "price_tokens",
        period: {
          from: ENDED.toISOString().replace(".000Z", "Z"),
          to: DEC_1.toISOString().replace(".000Z", "Z"),
        },
      },
    });
    // No item of the ended subscription billed api_calls: the access is still a finding, worth 0.
    expect(findings[1]).toMatchObject({ feature: "api_calls", actual: "grace", amountMinor: "0" });
  });

  it("revoked entitlements and customers whose subscriptions were not fetched are not judged", () => {
    const given = {
      ...input([canceled], [anEntitlement({ status: "revoked" }), anEntitlement({ customerId: "cus_z" })]),
    };
    expect(checkAccessNotRevoked({ ...given, usage: new Map() })).toEqual([]);
  });

  it("uses the latest ended subscription and keeps the fingerprint across nights", () => {
    const older = aSubscription({
      id: "sub_old",
      status: "canceled",
      canceledAt: new Date("2026-10-01T00:00:00Z"),
      endedAt: new Date("2026-10-01T00:00:00Z"),
    });
    const night = (usageTotal: string) => {
      const given = input([older, canceled]);
      const [window] = findAccessWindows(given);
      return checkAccessNotRevoked({ ...given, usage: new Map([[usageWindowKey(window!), usageTotal]]) })[0]!;
    };
    const first = night("10");
    const second = night("5000");
    expect(first.evidence["subscription"]).toBe("sub_a");
    expect(first.fingerprint).toBe(second.fingerprint);
    expect([first.amountMinor, second.amountMinor]).toEqual(["0.00381", "1.905"]);
  });

  it("a customer with access and no subscription at all is a finding worth 0", () => {
    const findings = checkAccessNotRevoked({ ...input([]), usage: new Map() });
    expect(findings).toMatchObject([
      { feature: "tokens", amountMinor: "0", currency: "usd", evidence: { subscription: null } },
    ]);
  });

  it("an unpaid subscription does not entitle", () => {
    const unpaid = aSubscription({ status: "unpaid", canceledAt: null, endedAt: null });
    const findings = checkAccessNotRevoked({ ...input([unpaid]), usage: new Map() });
    expect(findings).toMatchObject([
      { feature: "tokens", amountMinor: "0", evidence: { subscription: "sub_a", ended_at: null } },
    ]);
  });

  it("says why the access outlived the subscription, from what leakguard itself holds", () => {
    const mirrored = new Map([["sub_a", { status: "active", deletionEvent: null }]]);
    const given = input([canceled], [anEntitlement()], mirrored);
    expect(findLapsedSubscriptionIds(given)).toEqual(["sub_a"]);
    const [window] = findAccessWindows(given);
    const [finding] = checkAccessNotRevoked({ ...given, usage: new Map([[usageWindowKey(window!), "0"]]) });
    expect(finding!.evidence["why"]).toBe(
      "subscription sub_a is canceled in Stripe since 2026-11-20T00:00:00Z; the deletion webhook never arrived (the mirror still says active)",
    );
  });
});

describe("explainLapse", () => {
  const mirrored = (status: string | null, deletionEvent: MirroredSubscription["deletionEvent"] = null) => ({
    status,
    deletionEvent,
  });
  const since = "subscription sub_a is canceled in Stripe since 2026-11-20T00:00:00Z";

  it.each([
    [
      "never mirrored, no event",
      mirrored(null),
      `${since}; no webhook for it was ever applied (the mirror has no copy of it)`,
    ],
    [
      "the deletion webhook stored but failed",
      mirrored("active", { id: "evt_del", status: "failed" }),
      `${since}; the deletion webhook evt_del arrived but was not applied (failed; the mirror still says active)`,
    ],
    [
      "mirrored as canceled already",
      mirrored("canceled"),
      `${since}; the mirror has it canceled too, but access was never recomputed`,
    ],
    ["not loaded", undefined, `${since}; no webhook for it was ever applied (the mirror has no copy of it)`],
  ])("%s", (_name, view, why) => {
    expect(explainLapse("cus_a", canceled, ENDED, view)).toBe(why);
  });

  it("names the status of a subscription that ended some other way, and a customer with none", () => {
    const unpaid = aSubscription({ status: "unpaid" });
    expect(explainLapse("cus_a", unpaid, null, mirrored("active"))).toBe(
      "subscription sub_a is unpaid in Stripe; the webhook announcing it never arrived (the mirror still says active)",
    );
    expect(explainLapse("cus_a", null, null, undefined)).toBe(
      "Stripe lists no subscription for cus_a, yet leakguard still grants access",
    );
  });
});
