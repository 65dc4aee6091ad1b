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

/**
 * A Redis database of a test file's own, emptied, as a URL: a spawned daemon's queues cannot be
 * given a prefix. Not 0, where the suites' queues each have a prefix of their own.
 */
export async function ownRedisDb(database: number): Promise<string> {
  if (database <= 0 || database > 15) throw new Error('pick a Redis database 1-15');
  const url = new URL(process.env.REDIS_URL!);
  url.pathname = `/${database}`;
  await flushRedisDb(url.toString());
  return url.toString();
}

/** Empties a Redis database a test has for itself. */
export async function flushRedisDb(url: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
}
