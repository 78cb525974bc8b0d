import { type Job, type JobsOptions, Queue, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "../config/logger.js";
import { isDomainError } from "../errors.js";
import type { JobName, QueueName } from "./registry.js";

export type { Job, Queue, Worker } from "bullmq";

export type QueueContext = { connection: Redis; prefix: string };

const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: "exponential", delay: 1000 },
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 5000 },
};

export function createQueue(ctx: QueueContext, name: QueueName): Queue {
  return new Queue(name, {
    connection: ctx.connection,
    prefix: ctx.prefix,
    defaultJobOptions: DEFAULT_JOB_OPTIONS,
  });
}

export async function enqueue(
  queue: Queue,
  name: JobName,
  data: Record<string, unknown>,
  options: JobsOptions = {},
): Promise<string | undefined> {
  const job = await queue.add(name, data, options);
  return job.id;
}

export type Processor = (job: Job, log: Logger) => Promise<unknown>;

/**
 * The one place that decides retry vs not: domain errors are permanent (UnrecoverableError), everything
 * else is retried with the queue's backoff.
 */
export function createWorker(
  ctx: QueueContext & { logger: Logger; concurrency: number },
  name: QueueName,
  processor: Processor,
): Worker {
  const worker = new Worker(
    name,
    async (job) => {
      const log = ctx.logger.child({ queue: name, job: job.name, job_id: job.id });
      try {
        return await processor(job, log);
      } catch (error) {
        if (isDomainError(error)) {
          log.warn({ code: error.code, err: error.message }, "job failed permanently");
          throw new UnrecoverableError(`${error.code}: ${error.message}`);
        }
        log.warn({ err: (error as Error).message, attempt: job.attemptsMade + 1 }, "job failed, will retry");
        throw error;
      }
    },
    { connection: ctx.connection, prefix: ctx.prefix, concurrency: ctx.concurrency },
  );
  worker.on("error", (error) => ctx.logger.error({ queue: name, err: error.message }, "worker error"));
  return worker;
}

/** BullMQ silently loses jobs when Redis evicts keys; refuse to run on such a Redis. */
export async function assertNoEviction(connection: Redis): Promise<void> {
  const reply = (await connection.config("GET", "maxmemory-policy")) as string[];
  const policy = reply[1];
  if (policy !== undefined && policy !== "noeviction") {
    throw new Error(
      `Redis maxmemory-policy is "${policy}"; leakguard needs "noeviction" (run: redis-cli CONFIG SET maxmemory-policy noeviction)`,
    );
  }
}
