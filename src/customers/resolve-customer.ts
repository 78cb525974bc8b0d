import type { Db } from "../db/client.js";
import { ENTITLING_STATUSES } from "../entitlements/decide-entitlements.js";
import { DomainError } from "../errors.js";

// Fixed words, never input: safe to write into the SQL.
const ENTITLING_STATUS_LIST = [...ENTITLING_STATUSES].map((status) => `'${status}'`).join(", ");

/**
 * SQL for the Stripe customer id that `param` (a placeholder such as `$1`) names: a mirrored `cus_...` id as is,
 * else the non-deleted customer carrying it as product id (`externalId`).
 */
export function customerIdSql(param: string): string {
  return `coalesce(
    (SELECT id FROM customers WHERE id = ${param} AND left(${param}, 4) = 'cus_'),
    (SELECT c.id FROM customers c WHERE c."externalId" = ${param} AND c.deleted = false
     -- One product id on several Stripe customers: the one with a paying subscription wins, then the newest.
     ORDER BY EXISTS (SELECT 1 FROM subscriptions s WHERE s."customerId" = c.id AND s.status IN (${ENTITLING_STATUS_LIST})) DESC,
       c."updatedAt" DESC, c.id DESC
     LIMIT 1)
  )`;
}

const RESOLVE_SQL = `SELECT ${customerIdSql("$1")} AS id`;

/**
 * `:customer` in the API and `customer` in usage may be the Stripe customer id or the product's own id
 * (read from the Stripe customer's metadata into `externalId`). Returns the Stripe customer id.
 */
export async function resolveCustomerId(db: Db, customer: string): Promise<string | null> {
  const rows = await db.$queryRawUnsafe<{ id: string | null }[]>(RESOLVE_SQL, customer);
  return rows[0]?.id ?? null;
}

export async function requireCustomerId(db: Db, customer: string): Promise<string> {
  const id = await resolveCustomerId(db, customer);
  if (id === null)
    throw new DomainError(
      "customer_not_found",
      `no customer "${customer}" (neither a Stripe customer id nor a known product id)`,
    );
  return id;
}
