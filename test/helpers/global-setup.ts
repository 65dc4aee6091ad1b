import postgres from 'postgres';
import { openDatabase } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { databaseUrl, realMode, TEMPLATE_DATABASE } from './mode.js';

/**
 * Real mode: migrate once into a template database; each test file clones it.
 * Either both services are reachable or the run fails here, loudly: nothing is skipped.
 */
export default async function setup(): Promise<void> {
  const partial = Boolean(process.env.DATABASE_URL) !== Boolean(process.env.REDIS_URL);
  if (partial) throw new Error('set both DATABASE_URL and REDIS_URL (real mode) or neither (embedded mode)');
  if (!realMode) {
    process.stdout.write('mailroom tests: embedded mode (PGlite, in-process queue); fault suites run in real mode (or npm run test:faults)\n');
    return;
  }
  process.stdout.write('mailroom tests: real mode (PostgreSQL, Redis/BullMQ)\n');
  const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists ${TEMPLATE_DATABASE} with (force)`);
    await admin.unsafe(`create database ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(TEMPLATE_DATABASE);
  const database = await openDatabase({ url, poolSize: 1 });
  await migrateDatabase(database, url);
  await database.close();
  const { Redis } = await import('ioredis');
  const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    await redis.ping();
  } finally {
    redis.disconnect();
  }
}
