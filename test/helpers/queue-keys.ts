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
