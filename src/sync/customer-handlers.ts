import type { CustomerSnapshot } from "../stripe/normalize/index.js";
import { type HandlerContext, outcomeOf, versionOf } from "./handler.js";
import { decideCustomerWrite } from "./mirror-guard.js";
import { inMirrorTransaction, lockRow } from "./mirror-transaction.js";
import type { SyncOutcome } from "./types.js";

/** customer.created, customer.updated, customer.deleted */
export async function applyCustomerEvent(
  handler: HandlerContext,
  snapshot: CustomerSnapshot,
): Promise<SyncOutcome> {
  const { ctx, event } = handler;
  const version = versionOf(event);
  // customer.deleted carries the customer as it was, not always with `deleted: true`.
  const deleted = snapshot.deleted || event.type === "customer.deleted";
  const id = snapshot.stripeCustomerId;
  const decision = await inMirrorTransaction(ctx.db, async (tx) => {
    await lockRow(tx, "customers", id);
    const held = await tx.customer.findUnique({
      where: { id },
      select: { eventCreated: true, deleted: true },
    });
    const decision = decideCustomerWrite(held, { ...version, deleted });
    if (!decision.write) return decision;
    const details = snapshot.details;
    const row = {
      deleted,
      eventCreated: version.eventCreated,
      eventId: version.eventId,
      ...(details === null
        ? {}
        : {
            externalId: details.metadata[ctx.config.customerIdMetadataKey] ?? null,
            email: details.email,
            name: details.name,
            metadata: details.metadata,
            stripeCreated: details.stripeCreated,
          }),
    };
    if (held === null) await tx.customer.create({ data: { id, ...row } });
    else await tx.customer.update({ where: { id }, data: row });
    return decision;
  });
  return outcomeOf(decision, `customer ${id}${deleted ? " deleted" : ""}`);
}
