import type { Db } from "../db/client.js";
import type { MirroredSubscription } from "./snapshots.js";

const DELETED_EVENT = "customer.subscription.deleted";

/** leakguard's own copy of each subscription (status, or none) and the deletion webhook it stored, if any. */
export async function loadMirroredSubscriptions(
  db: Db,
  stripeSubscriptionIds: readonly string[],
): Promise<Map<string, MirroredSubscription>> {
  const ids = [...new Set(stripeSubscriptionIds)];
  if (ids.length === 0) return new Map();
  const [rows, events] = await Promise.all([
    db.subscription.findMany({ where: { id: { in: ids } }, select: { id: true, status: true } }),
    db.stripeEvent.findMany({
      where: { objectId: { in: ids }, type: DELETED_EVENT },
      select: { id: true, objectId: true, status: true },
      orderBy: [{ stripeCreated: "asc" }, { id: "asc" }],
    }),
  ]);
  const statusOf = new Map(rows.map((row) => [row.id, row.status]));
  // The newest deletion event of each subscription speaks for it.
  const eventOf = new Map(events.map((event) => [event.objectId, { id: event.id, status: event.status }]));
  return new Map(
    ids.map((id) => [id, { status: statusOf.get(id) ?? null, deletionEvent: eventOf.get(id) ?? null }]),
  );
}
