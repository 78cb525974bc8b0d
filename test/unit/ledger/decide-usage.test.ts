import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  decideReplay,
  decideUsageCandidate,
  type StoredUsage,
} from "../../../src/ledger/decide-usage.js";
import type { UsageEvent } from "../../../src/ledger/usage-input.js";

const now = new Date("2026-12-01T12:00:00Z");

function anEvent(overrides: Partial<UsageEvent> = {}): UsageEvent {
  return {
    usageId: "req_1",
    customer: "user_1",
    feature: "tokens",
    quantity: "1200",
    timestamp: null,
    properties: {},
    ...overrides,
  };
}

function stored(event: UsageEvent, at: Date = now): StoredUsage {
  const candidate = decideUsageCandidate(event, "cus_1", at);
  return { ...candidate, properties: JSON.parse(JSON.stringify(candidate.properties)) };
}

describe("canonicalJson", () => {
  it("sorts keys at every depth and keeps arrays in order", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}',
    );
  });
});

describe("decideUsageCandidate", () => {
  it("uses the clock when no time is given, and leaves it out of the fingerprint", () => {
    const early = decideUsageCandidate(anEvent(), "cus_1", now);
    const later = decideUsageCandidate(anEvent(), "cus_1", new Date(now.getTime() + 60_000));
    expect(early.occurredAt).toEqual(now);
    expect(early.fingerprint).toBe(later.fingerprint);
  });

  it("fingerprints the resolved customer, not the name the caller used", () => {
    const byProductId = decideUsageCandidate(anEvent({ customer: "user_1" }), "cus_1", now);
    const byStripeId = decideUsageCandidate(anEvent({ customer: "cus_1" }), "cus_1", now);
    expect(byProductId.fingerprint).toBe(byStripeId.fingerprint);
  });

  it.each([
    ["quantity", { quantity: "1201" }],
    ["feature", { feature: "api_calls" }],
    ["timestamp", { timestamp: now }],
    ["properties", { properties: { model: "large" } }],
  ])("changes the fingerprint when the %s changes", (_field, overrides) => {
    expect(decideUsageCandidate(anEvent(overrides), "cus_1", now).fingerprint).not.toBe(
      decideUsageCandidate(anEvent(), "cus_1", now).fingerprint,
    );
  });
});

describe("decideReplay", () => {
  it("is a duplicate when the payload is the same, whatever the key order of properties", () => {
    const original = stored(anEvent({ properties: { a: 1, b: { c: 2, d: 3 } } }));
    const replay = decideUsageCandidate(anEvent({ properties: { b: { d: 3, c: 2 }, a: 1 } }), "cus_1", now);
    expect(decideReplay(original, replay)).toEqual({ kind: "duplicate" });
  });

  it("a retry without a time matches an original recorded without one, minutes later", () => {
    const original = stored(anEvent(), now);
    const retry = decideUsageCandidate(anEvent(), "cus_1", new Date(now.getTime() + 120_000));
    expect(decideReplay(original, retry).kind).toBe("duplicate");
  });

  it("names each differing field with both values", () => {
    const original = stored(anEvent({ timestamp: now }));
    const changed = decideUsageCandidate(
      anEvent({ quantity: "5", timestamp: null, properties: { model: "x" } }),
      "cus_2",
      now,
    );
    const decision = decideReplay(original, changed);
    expect(decision.kind).toBe("conflict");
    if (decision.kind !== "conflict") return;
    expect(decision.requestFingerprint).toBe(changed.fingerprint);
    expect(decision.differences).toEqual([
      { field: "customer", original: "cus_1", request: "cus_2" },
      { field: "quantity", original: "1200", request: "5" },
      { field: "timestamp", original: now.toISOString(), request: null },
      { field: "properties", original: {}, request: { model: "x" } },
    ]);
  });
});
