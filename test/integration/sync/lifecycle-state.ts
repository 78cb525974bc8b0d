import type { Db } from "../../../src/db/client.js";
import { SYNC_CATALOG } from "./sync-harness.js";

const stable = (value: unknown): string =>
  JSON.stringify(value, (_key, field) => {
    if (typeof field === "bigint") return `${field}n`;
    if (field !== null && typeof field === "object" && !Array.isArray(field) && !(field instanceof Date))
      return Object.fromEntries(Object.entries(field).sort(([a], [b]) => (a < b ? -1 : 1)));
    return field;
  });

/** Row fields that say when and from which event data came: they differ by delivery order, the data does not. */
const VERSION_FIELDS = { updatedAt: true, eventCreated: true, eventId: true } as const;

/** Everything mirrored for one lifecycle copy, with `tag` replaced so two copies compare equal. */
export async function mirroredState(db: Db, tag: string, customerId: string): Promise<string> {
  const state = {
    customer: await db.customer.findUnique({ where: { id: customerId }, omit: VERSION_FIELDS }),
    subscriptions: await db.subscription.findMany({
      where: { customerId },
      omit: VERSION_FIELDS,
      include: { items: { orderBy: { id: "asc" } } },
      orderBy: { id: "asc" },
    }),
    invoices: await db.invoice.findMany({
      where: { customerId },
      omit: VERSION_FIELDS,
      include: { lines: { orderBy: { id: "asc" } } },
      orderBy: { id: "asc" },
    }),
    prices: await db.price.findMany({
      where: { id: { contains: `_${tag}_` } },
      omit: { updatedAt: true, eventCreated: true },
      orderBy: { id: "asc" },
    }),
  };
  return stable(state).replaceAll(tag, "TAG");
}

/** Whether the customer has each catalog feature now (no row is no access). */
export async function accessState(db: Db, customerId: string): Promise<Record<string, string>> {
  const rows = await db.entitlement.findMany({ where: { customerId } });
  return Object.fromEntries(
    Object.keys(SYNC_CATALOG.features).map((feature) => [
      feature,
      rows.find((row) => row.feature === feature)?.status ?? "revoked",
    ]),
  );
}

/**
 * One access-log row per real change: per feature, the rows chain from "no entitlement" through each row's
 * `before` -> `after` to the stored entitlement, using every row once, and no row leaves the entitlement as it was.
 * Returns the problems found (empty when the log is sound); commit order is reconstructed, not assumed.
 */
export async function accessLogProblems(db: Db, customerId: string): Promise<string[]> {
  const rows = await db.accessLog.findMany({ where: { customerId } });
  const problems: string[] = [];
  for (const feature of new Set(rows.map((row) => row.feature))) {
    const links = rows
      .filter((row) => row.feature === feature)
      .map((row) => ({ before: stable(row.before), after: stable(row.after), cause: row.cause }));
    for (const link of links)
      if (link.before === link.after) problems.push(`${feature}: a row by ${link.cause} changes nothing`);
    const stored = await db.entitlement.findUnique({
      where: { customerId_feature: { customerId, feature } },
    });
    const end = chainEnd(stable(null), links, new Array(links.length).fill(false), links.length);
    if (end === null) problems.push(`${feature}: ${links.length} row(s) do not chain from no entitlement`);
    else if ((JSON.parse(end) as { status?: string } | null)?.status !== stored?.status)
      problems.push(`${feature}: the log ends ${end}, the entitlement is ${stored?.status}`);
  }
  return problems;
}

/** Depth-first: orders the unused links into one chain starting at `from`; returns where it ends, or null. */
function chainEnd(
  from: string,
  links: { before: string; after: string }[],
  used: boolean[],
  left: number,
): string | null {
  if (left === 0) return from;
  for (const [index, link] of links.entries()) {
    if (used[index] || link.before !== from) continue;
    used[index] = true;
    const end = chainEnd(link.after, links, used, left - 1);
    if (end !== null) return end;
    used[index] = false;
  }
  return null;
}
