import { Redis } from 'ioredis';

/** Removes a test's BullMQ keys from the shared Redis, so runs leave nothing behind. */
export async function removeQueueKeys(prefix: string): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL!);
  try {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

/** Empties a Redis database a test has for itself (a spawned daemon's queues cannot be given a prefix). */
export async function flushRedisDb(url: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
}
