import type { Redis } from "ioredis";

/** Deletes every Redis key under a queue prefix (an install's queues, jobs and schedulers). */
export async function deleteQueueKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== "0");
}
