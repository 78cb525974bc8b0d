import { type Db, Prisma } from "../db/client.js";

export type UsageWindow = { customerId: string; feature: string; from?: Date | null; to?: Date | null };

/** Net usage of a feature in [from, to), summed from the ledger (the truth), as an exact decimal. */
export async function loadUsageTotal(db: Db, window: UsageWindow): Promise<Prisma.Decimal> {
  const result = await db.ledgerEntry.aggregate({
    _sum: { quantity: true },
    where: {
      customerId: window.customerId,
      feature: window.feature,
      kind: "usage",
      occurredAt: {
        ...(window.from ? { gte: window.from } : {}),
        ...(window.to ? { lt: window.to } : {}),
      },
    },
  });
  return result._sum.quantity ?? new Prisma.Decimal(0);
}
