import type { Redis } from "ioredis";
import { withTimeout } from "../timeout.js";

/** "ok", or why Redis cannot be used right now (never waits on a reconnecting client). */
export async function pingRedis(redis: Redis, timeoutMs = 1000): Promise<string> {
  if (redis.status !== "ready") return `not connected (${redis.status})`;
  try {
    await withTimeout(redis.ping(), timeoutMs, `no answer within ${timeoutMs} ms`);
    return "ok";
  } catch (error) {
    return (error as Error).message;
  }
}

/** Redis's eviction policy, or why it could not be read. */
export async function readEvictionPolicy(
  redis: Redis,
  timeoutMs = 1000,
): Promise<{ policy?: string; error?: string }> {
  if (redis.status !== "ready") return { error: `not connected (${redis.status})` };
  try {
    const reply = (await withTimeout(
      redis.config("GET", "maxmemory-policy"),
      timeoutMs,
      "no answer",
    )) as string[];
    return { policy: reply[1] ?? "unknown" };
  } catch (error) {
    return { error: (error as Error).message };
  }
}
