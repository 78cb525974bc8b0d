import { Redis } from "ioredis";

export type RedisConnection = Redis;

/** BullMQ needs maxRetriesPerRequest: null on connections used by workers. */
export function createRedis(redisUrl: string, options: { lazy?: boolean } = {}): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: options.lazy ?? false });
}

/** A connection for request paths: fails fast instead of queueing commands while Redis is down. */
export function createFailFastRedis(redisUrl: string): Redis {
  return new Redis(redisUrl, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
}
