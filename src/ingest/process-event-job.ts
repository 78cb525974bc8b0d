import type { AppContext } from "../app-context.js";
import type { Logger } from "../config/logger.js";
import type { Job } from "../queue/queues.js";

export async function processStripeEventJob(_ctx: AppContext, _job: Job, _log: Logger): Promise<unknown> {
  return undefined;
}
