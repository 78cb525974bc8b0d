import { randomBytes } from "node:crypto";
import { createRedis } from "../../src/queue/connection.js";
import { deleteQueueKeys } from "../../src/queue/keys.js";
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
        await deleteQueueKeys(redis, prefix);
      } finally {
        redis.disconnect();
      }
    },
  };
}
