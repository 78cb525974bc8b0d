import { randomBytes } from "node:crypto";
import { createRedis } from "../../src/queue/connection.js";
import { TEST_REDIS_URL } from "./env.js";

/** A queue prefix of this test's own, so tests never see each other's jobs; cleanup deletes its keys. */
export function createTestQueuePrefix(): { prefix: string; redisUrl: string; cleanup: () => Promise<void> } {
  const prefix = `lgtest_${randomBytes(5).toString("hex")}`;
  return {
    prefix,
    redisUrl: TEST_REDIS_URL,
    cleanup: async () => {
      const redis = createRedis(TEST_REDIS_URL);
      try {
        let cursor = "0";
        do {
          const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
          cursor = next;
          if (keys.length > 0) await redis.del(...keys);
        } while (cursor !== "0");
      } finally {
        redis.disconnect();
      }
    },
  };
}
