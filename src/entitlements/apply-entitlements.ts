import type { AppContext } from "../app-context.js";

export type EntitlementCause = { cause: string; eventId?: string };

/** Recomputes a customer's entitlements from the subscription mirror and the catalog, logging every change. */
export async function applyEntitlementsForCustomer(
  _ctx: AppContext,
  _stripeCustomerId: string,
  _cause: EntitlementCause,
): Promise<void> {}
