import { type Db, isUniqueViolation, Prisma } from "../db/client.js";

export type Tx = Prisma.TransactionClient;

type MirrorTable = "customers" | "subscriptions" | "invoices" | "prices";

const ATTEMPTS = 5;

/**
 * Runs one guarded mirror write in a transaction. Two workers may insert the same new row at once; the loser's
 * unique violation is expected, and a second attempt finds the row and locks it, so it becomes a guarded update.
 * Writers therefore `create` when nothing was held and `update` otherwise: an `upsert` (INSERT ... ON CONFLICT
 * DO UPDATE) would let the loser overwrite the winner's newer row without the guard ever seeing it.
 */
export async function inMirrorTransaction<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.$transaction(work, { maxWait: 10_000, timeout: 30_000 });
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= ATTEMPTS) throw error;
    }
  }
}

/** Holds the row (if it exists) until the transaction ends, so the guard reads what the write will replace. */
export async function lockRow(tx: Tx, table: MirrorTable, id: string): Promise<void> {
  await tx.$queryRaw`SELECT id FROM ${Prisma.raw(`"${table}"`)} WHERE id = ${id} FOR UPDATE`;
}

/** A subscription or invoice may arrive before its customer: a bare row makes lookups work until it does. */
export async function ensureCustomerRow(tx: Tx, stripeCustomerId: string): Promise<void> {
  await tx.customer.createMany({ data: [{ id: stripeCustomerId }], skipDuplicates: true });
}
