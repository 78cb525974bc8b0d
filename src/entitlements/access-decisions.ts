import { createHash } from "node:crypto";
import { Prisma } from "../db/client.js";
import type { Catalog } from "./catalog.js";
import type { EntitlementDecision } from "./decide-entitlements.js";
import type { DbReader } from "./load-entitlement-state.js";

/**
 * Freshness of the stored entitlements (table `access_decisions`). The access API answers from a customer's
 * stored rows, without deciding again, while (1) no input of the decision changed since it was applied, (2) the
 * same catalog and rules decided it, and (3) the clock has not reached its next change. Otherwise it decides
 * afresh from the mirror and records that.
 *
 * (1) is a version: every mirror write that can change a decision bumps it in the write's own transaction, and
 * applying reads it before it reads the inputs, so a write it may have missed always leaves the versions apart.
 */

/** Bump when the decision rules in decide-entitlements.ts change meaning, so stored decisions are re-made. */
const DECISION_RULES_VERSION = 1;

const fingerprints = new WeakMap<Catalog, string>();

/** What decided: the catalog's plans, features and grace, and the rules' version. */
export function decisionFingerprint(catalog: Catalog): string {
  let fingerprint = fingerprints.get(catalog);
  if (fingerprint === undefined) {
    const { features, plans, grace } = catalog;
    fingerprint = createHash("sha256")
      .update(JSON.stringify({ rules: DECISION_RULES_VERSION, features, plans, grace }))
      .digest("hex")
      .slice(0, 32);
    fingerprints.set(catalog, fingerprint);
  }
  return fingerprint;
}

/** In a mirror write's transaction: these customers' inputs changed, so their stored decisions are stale. */
export async function markAccessInputsChanged(tx: DbReader, customerIds: readonly string[]): Promise<void> {
  const ids = [...new Set(customerIds)].sort();
  if (ids.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO access_decisions ("customerId", "inputsVersion", "updatedAt")
    SELECT id, 1, now() FROM unnest(${ids}::text[]) AS id
    ON CONFLICT ("customerId") DO UPDATE
      SET "inputsVersion" = access_decisions."inputsVersion" + 1, "updatedAt" = now()`;
}

/** A price's product or lookup key decides which plan its items match: every customer on it is affected. */
export async function markPriceCustomersChanged(tx: DbReader, priceId: string): Promise<void> {
  const rows = await tx.$queryRaw<{ customerId: string }[]>`
    SELECT DISTINCT s."customerId" FROM subscription_items it JOIN subscriptions s ON s.id = it."subscriptionId"
    WHERE it."priceId" = ${priceId}`;
  await markAccessInputsChanged(
    tx,
    rows.map((row) => row.customerId),
  );
}

/** Read first in applying's transaction, before any input: the version the decision is made from. */
export async function readInputsVersion(tx: DbReader, customerId: string): Promise<bigint> {
  const row = await tx.accessDecision.findUnique({
    where: { customerId },
    select: { inputsVersion: true },
  });
  return row?.inputsVersion ?? 0n;
}

/** Features decided revoked that have no stored row (never granted): the reason the API gives for each. */
function revokedWithoutRow(
  decision: EntitlementDecision,
  storedFeatures: ReadonlySet<string>,
): Record<string, string> {
  const reasons: Record<string, string> = {};
  for (const feature of decision.features)
    if (feature.status === "revoked" && !storedFeatures.has(feature.feature))
      reasons[feature.feature] = feature.reason;
  return reasons;
}

function sameReasons(held: Prisma.JsonValue | null, reasons: Record<string, string> | null): boolean {
  if (held === null || reasons === null) return held === reasons;
  if (typeof held !== "object" || Array.isArray(held)) return false;
  const keys = Object.keys(reasons);
  return Object.keys(held).length === keys.length && keys.every((key) => held[key] === reasons[key]);
}

/** After applying: the stored rows are this decision, made from `inputsVersion`; written only when it differs. */
export async function recordAccessDecision(
  tx: DbReader,
  customerId: string,
  decided: {
    inputsVersion: bigint;
    fingerprint: string;
    decision: EntitlementDecision;
    storedFeatures: ReadonlySet<string>;
  },
): Promise<void> {
  const validUntil = decided.decision.nextChangeAt;
  const reasons = revokedWithoutRow(decided.decision, decided.storedFeatures);
  const revokedReasons = Object.keys(reasons).length === 0 ? null : reasons;
  const held = await tx.accessDecision.findUnique({ where: { customerId } });
  if (
    held !== null &&
    held.decidedVersion === decided.inputsVersion &&
    held.decidedWith === decided.fingerprint &&
    (held.validUntil?.getTime() ?? null) === (validUntil?.getTime() ?? null) &&
    sameReasons(held.revokedReasons, revokedReasons)
  )
    return;
  const fields = {
    decidedVersion: decided.inputsVersion,
    decidedWith: decided.fingerprint,
    validUntil,
    revokedReasons: revokedReasons ?? Prisma.DbNull,
  };
  await tx.accessDecision.upsert({
    where: { customerId },
    create: { customerId, inputsVersion: decided.inputsVersion, ...fields },
    update: fields,
  });
}
