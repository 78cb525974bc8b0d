import { createHash } from "node:crypto";

/** Every kind of leakage a finding can report (DESIGN.md, "Leakage categories"). */
export const FINDING_CATEGORIES = [
  "duplicate_usage",
  "duplicate_deduction",
  "unreported_usage",
  "billing_mismatch",
  "access_not_revoked",
  "usage_without_entitlement",
  "over_limit_unbilled",
  "webhook_duplicate",
  "webhook_missed",
  "mirror_drift",
] as const;
export type FindingCategory = (typeof FINDING_CATEGORIES)[number];

/** A finding as a check decides it, before it is stored: amounts are decimal strings of minor units. */
export type FindingDraft = {
  fingerprint: string;
  category: FindingCategory;
  customerId: string;
  feature: string | null;
  expected: string;
  actual: string;
  /** Money impact: positive = revenue not captured, negative = over-billed. */
  amountMinor: string;
  currency: string;
  evidence: Record<string, unknown>;
};

/** What a run did about a finding after saving it: its new status, and its evidence with what was done. */
export type FindingResolution = {
  fingerprint: string;
  status: "open" | "fixed";
  evidence: Record<string, unknown>;
};

/**
 * The identity of a problem: its category and the ids that locate it, never its amounts, so the same problem
 * found on two nights (with grown usage) is one finding.
 */
export function fingerprintOf(category: FindingCategory, identity: readonly string[]): string {
  return createHash("sha256")
    .update(JSON.stringify([category, ...identity]))
    .digest("hex");
}

/** An instant as the report prints it: ISO 8601 UTC, without milliseconds when they are zero. */
export function isoTime(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, "Z");
}
