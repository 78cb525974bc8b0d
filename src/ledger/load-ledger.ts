import type { AppContext } from "../app-context.js";
import { resolveCustomerId } from "../customers/resolve-customer.js";
import type { Db, Prisma } from "../db/client.js";
import { DomainError } from "../errors.js";
import type { LedgerRow } from "./explain-entry.js";

export const LEDGER_ROW_SELECT = {
  id: true,
  usageId: true,
  kind: true,
  customerId: true,
  feature: true,
  quantity: true,
  occurredAt: true,
  createdAt: true,
  reportedAt: true,
  reportError: true,
} as const;

type SelectedRow = Prisma.LedgerEntryGetPayload<{ select: typeof LEDGER_ROW_SELECT }>;

export function toLedgerRow(row: SelectedRow): LedgerRow {
  return {
    id: row.id,
    usageId: row.usageId,
    kind: row.kind,
    customerId: row.customerId,
    feature: row.feature,
    quantity: row.quantity.toFixed(),
    occurredAt: row.occurredAt,
    recordedAt: row.createdAt,
    reportedAt: row.reportedAt,
    reportError: row.reportError,
  };
}

/**
 * The Stripe customer id whose ledger to read: a mirrored customer (by Stripe id or product id), or a
 * `cus_...` id that has ledger rows although its mirror has not arrived yet.
 */
export async function requireLedgerCustomer(db: Db, customer: string): Promise<string> {
  const resolved = await resolveCustomerId(db, customer);
  if (resolved !== null) return resolved;
  if (customer.startsWith("cus_")) {
    const any = await db.ledgerEntry.findFirst({ where: { customerId: customer }, select: { id: true } });
    if (any !== null) return customer;
  }
  throw new DomainError(
    "customer_not_found",
    `no customer "${customer}" (neither a Stripe customer id nor a known product id)`,
  );
}

export type LedgerPageQuery = {
  customer: string;
  limit: number;
  /** An entry id from a previous page (`next_before`), or a time: only entries that occurred before it. */
  before?: string | Date;
};

export type LedgerPage = { customerId: string; rows: LedgerRow[]; nextBefore: string | null };

/** A customer's ledger, newest occurrence first (ties by id), one page at a time. */
export async function loadLedgerPage(
  ctx: Pick<AppContext, "db">,
  query: LedgerPageQuery,
): Promise<LedgerPage> {
  const customerId = await requireLedgerCustomer(ctx.db, query.customer);
  let cursor: Prisma.LedgerEntryWhereInput = {};
  if (query.before instanceof Date) {
    cursor = { occurredAt: { lt: query.before } };
  } else if (query.before !== undefined) {
    const anchor = await ctx.db.ledgerEntry.findFirst({
      where: { id: query.before, customerId },
      select: { id: true, occurredAt: true },
    });
    if (anchor === null) {
      throw new DomainError(
        "validation_failed",
        `before: no ledger entry "${query.before}" for this customer`,
      );
    }
    cursor = {
      OR: [
        { occurredAt: { lt: anchor.occurredAt } },
        { occurredAt: anchor.occurredAt, id: { lt: anchor.id } },
      ],
    };
  }
  const rows = await ctx.db.ledgerEntry.findMany({
    where: { customerId, ...cursor },
    orderBy: [{ occurredAt: "desc" }, { id: "desc" }],
    take: query.limit,
    select: LEDGER_ROW_SELECT,
  });
  const last = rows.at(-1);
  return {
    customerId,
    rows: rows.map(toLedgerRow),
    nextBefore: rows.length === query.limit && last !== undefined ? last.id : null,
  };
}
