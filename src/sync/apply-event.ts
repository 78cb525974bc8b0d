import type { AppContext } from "../app-context.js";
import type { Logger } from "../config/logger.js";
import type { StoredStripeEvent, SyncOutcome } from "./types.js";

/** Applies one stored Stripe event to the mirrors (dispatch by event type to one handler per family). */
export async function applyStripeEvent(_ctx: AppContext, event: StoredStripeEvent, _log: Logger): Promise<SyncOutcome> {
  return { status: "ignored", reason: `no handler for ${event.type}` };
}
