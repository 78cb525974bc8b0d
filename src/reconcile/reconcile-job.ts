import type { AppContext } from "../app-context.js";
import type { Logger } from "../config/logger.js";
import type { Job } from "../queue/queues.js";

export async function processReconcileJob(_ctx: AppContext, _job: Job, _log: Logger): Promise<unknown> {
  return undefined;
}

export async function scheduleNightlyReconcile(_ctx: AppContext): Promise<void> {}
