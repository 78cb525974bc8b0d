import { asRecord, readMetadata, readString, readUnixTime } from "./read.js";
import { readable, refusingInvalidValues, unreadable } from "./result.js";
import type { CustomerSnapshot, Normalized } from "./types.js";

/** A Stripe customer, or the `{id, object, deleted: true}` stub a deletion may carry instead of the full object. */
export function normalizeCustomer(raw: unknown): Normalized<CustomerSnapshot> {
  return refusingInvalidValues("customer", raw, readCustomer);
}

function readCustomer(raw: unknown): Normalized<CustomerSnapshot> {
  const customer = asRecord(raw);
  if (customer === null) return unreadable("customer is not an object");
  const stripeCustomerId = readString(customer, "id");
  if (stripeCustomerId === null) return unreadable("customer has no id");
  const kind = readString(customer, "object");
  if (kind !== null && kind !== "customer")
    return unreadable(`${stripeCustomerId} is a ${kind}, not a customer`);

  const deleted = customer["deleted"] === true;
  // A stub has nothing but id/object/deleted; reading it as "no email, no metadata" would erase what is known.
  const isStub = Object.keys(customer).every((key) => key === "id" || key === "object" || key === "deleted");
  return readable({
    stripeCustomerId,
    deleted,
    details: isStub
      ? null
      : {
          email: readString(customer, "email"),
          name: readString(customer, "name"),
          metadata: readMetadata(customer),
          stripeCreated: readUnixTime(customer, "created"),
        },
  });
}
