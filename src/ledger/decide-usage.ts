import { createHash } from "node:crypto";
import type { UsageEvent } from "./usage-input.js";

/** What identifies a usage request's content: the same usage_id with the same payload is a replay. */
export type CanonicalUsage = {
  customer: string;
  feature: string;
  quantity: string;
  /** ISO time the caller gave, or null when the ledger chose "now" (so a retry without one still matches). */
  timestamp: string | null;
  properties: Record<string, unknown>;
};

export type UsageCandidate = {
  usageId: string;
  customerId: string;
  feature: string;
  quantity: string;
  occurredAt: Date;
  properties: Record<string, unknown>;
  fingerprint: string;
  canonical: CanonicalUsage;
};

/** The stored side of a replay decision. */
export type StoredUsage = {
  usageId: string;
  customerId: string;
  feature: string;
  quantity: string;
  occurredAt: Date;
  properties: unknown;
  fingerprint: string;
};

export type UsageDifference = { field: keyof CanonicalUsage; original: unknown; request: unknown };

export type ReplayDecision =
  | { kind: "duplicate" }
  | { kind: "conflict"; differences: UsageDifference[]; requestFingerprint: string };

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** JSON with object keys sorted at every depth, so equal payloads always hash alike. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

export function computeUsageFingerprint(canonical: CanonicalUsage): string {
  return createHash("sha256").update(canonicalJson(canonical)).digest("hex");
}

/** Turns a validated event, its resolved Stripe customer id and the clock into the row to insert. */
export function decideUsageCandidate(event: UsageEvent, customerId: string, now: Date): UsageCandidate {
  const canonical: CanonicalUsage = {
    customer: customerId,
    feature: event.feature,
    quantity: event.quantity,
    timestamp: event.timestamp?.toISOString() ?? null,
    properties: event.properties,
  };
  return {
    usageId: event.usageId,
    customerId,
    feature: event.feature,
    quantity: event.quantity,
    occurredAt: event.timestamp ?? now,
    properties: event.properties,
    fingerprint: computeUsageFingerprint(canonical),
    canonical,
  };
}

/** Rebuilds the canonical payload of a stored row; whether its time was given is read back from its fingerprint. */
export function canonicalOfStored(stored: StoredUsage): CanonicalUsage {
  const properties = (stored.properties ?? {}) as Record<string, unknown>;
  const base = {
    customer: stored.customerId,
    feature: stored.feature,
    quantity: stored.quantity,
    properties,
  };
  const withoutTime: CanonicalUsage = { ...base, timestamp: null };
  if (computeUsageFingerprint(withoutTime) === stored.fingerprint) return withoutTime;
  return { ...base, timestamp: stored.occurredAt.toISOString() };
}

/** Same usage_id seen again: the same fingerprint is a harmless replay, anything else a conflict naming what differs. */
export function decideReplay(stored: StoredUsage, candidate: UsageCandidate): ReplayDecision {
  if (stored.fingerprint === candidate.fingerprint) return { kind: "duplicate" };
  const original = canonicalOfStored(stored);
  const request = candidate.canonical;
  const fields: (keyof CanonicalUsage)[] = ["customer", "feature", "quantity", "timestamp", "properties"];
  const differences = fields
    .filter((field) => canonicalJson(original[field]) !== canonicalJson(request[field]))
    .map((field) => ({ field, original: original[field], request: request[field] }));
  return { kind: "conflict", differences, requestFingerprint: candidate.fingerprint };
}
