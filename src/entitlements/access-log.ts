import type { Db } from "../db/client.js";

export type AccessLogEntry = {
  id: string;
  feature: string;
  action: string;
  before: unknown;
  after: unknown;
  cause: string;
  event_id: string | null;
  created_at: string;
};

/** A customer's grants, changes and revokes, newest first, each with the cause that made it. */
export async function loadAccessLog(
  db: Db,
  stripeCustomerId: string,
  options: { limit: number; feature?: string | undefined },
): Promise<AccessLogEntry[]> {
  const rows = await db.accessLog.findMany({
    where: {
      customerId: stripeCustomerId,
      ...(options.feature === undefined ? {} : { feature: options.feature }),
    },
    // Insertion order, not createdAt: Prisma stamps that with each writer's own clock, to the millisecond.
    orderBy: { seq: "desc" },
    take: options.limit,
  });
  return rows.map((row) => ({
    id: row.id,
    feature: row.feature,
    action: row.action,
    before: row.before,
    after: row.after,
    cause: row.cause,
    event_id: row.eventId,
    created_at: row.createdAt.toISOString(),
  }));
}
