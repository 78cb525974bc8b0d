import type { Db } from "../db/client.js";
import { DomainError } from "../errors.js";

/**
 * `:customer` in the API and `customer` in usage may be the Stripe customer id or the product's own id
 * (read from the Stripe customer's metadata into `externalId`). Returns the Stripe customer id.
 */
export async function resolveCustomerId(db: Db, customer: string): Promise<string | null> {
  if (customer.startsWith("cus_")) {
    const byId = await db.customer.findUnique({ where: { id: customer }, select: { id: true } });
    if (byId !== null) return byId.id;
  }
  const byExternal = await db.customer.findFirst({
    where: { externalId: customer, deleted: false },
    select: { id: true },
    orderBy: { updatedAt: "desc" },
  });
  return byExternal?.id ?? null;
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
