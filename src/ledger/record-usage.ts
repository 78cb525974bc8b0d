import type { AppContext } from "../app-context.js";
import { customerIdSql } from "../customers/resolve-customer.js";
import type { Db } from "../db/client.js";
import { DomainError } from "../errors.js";
import {
  decideReplay,
  decideUsageCandidate,
  type UsageCandidate,
  type UsageDifference,
} from "./decide-usage.js";
import { type EventParse, type UsageEvent, type UsageValidation, usageEventParser } from "./usage-input.js";

/** A usage row as the product sees it after recording (or replaying) it. */
export type RecordedUsage = {
  id: string;
  usageId: string;
  customerId: string;
  feature: string;
  quantity: string;
  occurredAt: Date;
  recordedAt: Date;
};

export type UsageConflict = {
  usageId: string;
  message: string;
  differences: UsageDifference[];
  originalFingerprint: string;
  requestFingerprint: string;
};

export type UsageOutcome =
  | { status: "recorded"; entry: RecordedUsage }
  | { status: "duplicate"; entry: RecordedUsage }
  | ({ status: "conflict" } & UsageConflict)
  | {
      status: "invalid";
      usageId: string | null;
      error: "customer_not_found" | "validation_failed";
      message: string;
    };

const ENTRY_SELECT = {
  id: true,
  usageId: true,
  customerId: true,
  feature: true,
  quantity: true,
  occurredAt: true,
  properties: true,
  fingerprint: true,
  createdAt: true,
} as const;

type EntryRow = {
  id: string;
  usageId: string;
  customerId: string;
  feature: string;
  quantity: { toFixed: () => string };
  occurredAt: Date;
  properties: unknown;
  fingerprint: string;
  createdAt: Date;
};

function toRecorded(row: EntryRow): RecordedUsage {
  return {
    id: row.id,
    usageId: row.usageId,
    customerId: row.customerId,
    feature: row.feature,
    quantity: row.quantity.toFixed(),
    occurredAt: row.occurredAt,
    recordedAt: row.createdAt,
  };
}

// One row per name, resolved the way resolveCustomerId resolves one (a batch is one statement, not one per name).
const RESOLVE_MANY_SQL = `SELECT n.name, ${customerIdSql("n.name")} AS id FROM unnest($1::text[]) AS n(name)`;

/** Stripe customer id per name given; a `cus_...` id is taken as is even before its mirror row exists. */
async function loadCustomerIds(db: Db, names: string[]): Promise<Map<string, string | null>> {
  const distinct = [...new Set(names)];
  const rows = await db.$queryRawUnsafe<{ name: string; id: string | null }[]>(RESOLVE_MANY_SQL, distinct);
  const idOf = new Map(rows.map((row) => [row.name, row.id]));
  return new Map(distinct.map((name) => [name, idOf.get(name) ?? (name.startsWith("cus_") ? name : null)]));
}

function describeConflict(usageId: string, differences: UsageDifference[]): string {
  const parts = differences.map(
    (difference) =>
      `${difference.field} (was ${JSON.stringify(difference.original)}, now ${JSON.stringify(difference.request)})`,
  );
  return `usage_id "${usageId}" was already recorded with a different ${parts.join(", ")}`;
}

/**
 * Records validated usage events, idempotently by usage_id: one INSERT ... ON CONFLICT DO NOTHING for the
 * whole set, then every event that did not insert is compared with the row that holds its usage_id.
 * Outcomes come back in the order of `events`.
 */
export async function recordUsageEvents(
  ctx: Pick<AppContext, "db">,
  events: readonly UsageEvent[],
  now: Date = new Date(),
): Promise<UsageOutcome[]> {
  const customerIds = await loadCustomerIds(
    ctx.db,
    events.map((event) => event.customer),
  );

  const outcomes: (UsageOutcome | undefined)[] = new Array(events.length);
  const candidates: { index: number; candidate: UsageCandidate }[] = [];
  events.forEach((event, index) => {
    const customerId = customerIds.get(event.customer) ?? null;
    if (customerId === null) {
      outcomes[index] = {
        status: "invalid",
        usageId: event.usageId,
        error: "customer_not_found",
        message: `no customer "${event.customer}" (neither a Stripe customer id nor a known product id)`,
      };
      return;
    }
    candidates.push({ index, candidate: decideUsageCandidate(event, customerId, now) });
  });
  if (candidates.length === 0) return outcomes as UsageOutcome[];

  const inserted = await ctx.db.ledgerEntry.createManyAndReturn({
    data: candidates.map(({ candidate }) => ({
      usageId: candidate.usageId,
      kind: "usage" as const,
      customerId: candidate.customerId,
      feature: candidate.feature,
      quantity: candidate.quantity,
      occurredAt: candidate.occurredAt,
      properties: candidate.properties as object,
      fingerprint: candidate.fingerprint,
    })),
    skipDuplicates: true,
    select: ENTRY_SELECT,
  });

  // Postgres inserts in order, so a usage_id repeated within the set belongs to its first occurrence.
  const insertedByUsageId = new Map(inserted.map((row) => [row.usageId, row as EntryRow]));
  const replays: { index: number; candidate: UsageCandidate }[] = [];
  for (const item of candidates) {
    const row = insertedByUsageId.get(item.candidate.usageId);
    if (row !== undefined && row.fingerprint === item.candidate.fingerprint) {
      outcomes[item.index] = { status: "recorded", entry: toRecorded(row) };
      insertedByUsageId.delete(item.candidate.usageId);
    } else {
      replays.push(item);
    }
  }
  if (replays.length === 0) return outcomes as UsageOutcome[];

  const existingRows = (await ctx.db.ledgerEntry.findMany({
    where: { usageId: { in: [...new Set(replays.map(({ candidate }) => candidate.usageId))] } },
    select: ENTRY_SELECT,
  })) as EntryRow[];
  const existingByUsageId = new Map(existingRows.map((row) => [row.usageId, row]));
  for (const { index, candidate } of replays) {
    const row = existingByUsageId.get(candidate.usageId);
    if (row === undefined) throw new Error(`ledger row for usage_id "${candidate.usageId}" vanished`);
    const stored = { ...row, quantity: row.quantity.toFixed() };
    const decision = decideReplay(stored, candidate);
    if (decision.kind === "duplicate") {
      outcomes[index] = { status: "duplicate", entry: toRecorded(row) };
    } else {
      outcomes[index] = {
        status: "conflict",
        usageId: candidate.usageId,
        message: describeConflict(candidate.usageId, decision.differences),
        differences: decision.differences,
        originalFingerprint: row.fingerprint,
        requestFingerprint: decision.requestFingerprint,
      };
    }
  }
  return outcomes as UsageOutcome[];
}

/**
 * Records one validated usage event. A replay of the same payload returns the original row with
 * `duplicate: true`; an unknown product id is `customer_not_found`, a different payload `usage_conflict`.
 */
export async function recordUsage(
  ctx: Pick<AppContext, "db">,
  event: UsageEvent,
  now: Date = new Date(),
): Promise<{ entry: RecordedUsage; duplicate: boolean }> {
  const outcome = (await recordUsageEvents(ctx, [event], now))[0]!;
  switch (outcome.status) {
    case "recorded":
      return { entry: outcome.entry, duplicate: false };
    case "duplicate":
      return { entry: outcome.entry, duplicate: true };
    case "invalid":
      throw new DomainError(outcome.error, outcome.message);
    case "conflict":
      throw new DomainError("usage_conflict", outcome.message, conflictDetails(outcome));
  }
}

/**
 * A batch as the product sends it: every event is validated on its own and every valid one recorded, so one
 * bad event never loses the others. Outcomes come back in the order of `rawEvents`.
 */
export async function recordUsageBatch(
  ctx: Pick<AppContext, "db">,
  rawEvents: readonly unknown[],
  validation: UsageValidation,
): Promise<UsageOutcome[]> {
  const parses: EventParse[] = rawEvents.map(usageEventParser(validation));
  const valid = parses.flatMap((parse) => (parse.ok ? [parse.event] : []));
  const recorded = valid.length > 0 ? await recordUsageEvents(ctx, valid, validation.now) : [];
  let next = 0;
  return parses.map((parse) =>
    parse.ok
      ? recorded[next++]!
      : { status: "invalid", usageId: parse.usageId, error: "validation_failed", message: parse.message },
  );
}

/** The fields a 409 carries: which fields differ, their two values, and both fingerprints. */
export function conflictDetails(conflict: UsageConflict): Record<string, unknown> {
  return {
    usage_id: conflict.usageId,
    differing_fields: conflict.differences.map((difference) => difference.field),
    original: Object.fromEntries(conflict.differences.map((d) => [d.field, d.original])),
    request: Object.fromEntries(conflict.differences.map((d) => [d.field, d.request])),
    original_fingerprint: conflict.originalFingerprint,
    request_fingerprint: conflict.requestFingerprint,
  };
}
