import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { databaseUrl, realMode, TEMPLATE_DATABASE } from './mode.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Embedded mode: a migrated PGlite data folder that startTestApp copies for each daemon. */
    pgliteTemplate: string | null;
  }
}

/**
 * Real mode: migrate once into a template database; each test file clones it. Embedded mode:
 * create and migrate one PGlite data folder, which each test daemon starts from a copy of
 * (creating one takes 5 s, copying it 0.2 s). The daemon's own first start, initdb included, is
 * tested where a test starts it on an empty data folder (the CLI and start-up suites).
 * Either both services are reachable or the run fails here, loudly: nothing is skipped.
 */
export default async function setup(project: TestProject): Promise<(() => void) | void> {
  const partial = Boolean(process.env.DATABASE_URL) !== Boolean(process.env.REDIS_URL);
  if (partial) throw new Error('set both DATABASE_URL and REDIS_URL (real mode) or neither (embedded mode)');
  if (!realMode) {
    process.stdout.write('mailroom tests: embedded mode (PGlite, in-process queue); fault suites run in real mode (or npm run test:faults)\n');
    const parent = mkdtempSync(path.join(os.tmpdir(), 'mailroom-template-'));
    const template = path.join(parent, 'pglite');
    // Created in this process: the daemon's own way, initdb in a child process, needs
    // import.meta.resolve, which vitest's module runner lacks here.
    const removeTemplate = () => rmSync(parent, { recursive: true, force: true });
    try {
      const { PGlite } = await import('@electric-sql/pglite');
      await (await PGlite.create(template)).close();
      const database = await openDatabase({ pgliteDir: template });
      await migrateDatabase(database);
      await database.close();
    } catch (err) {
      removeTemplate();
      throw err;
    }
    project.provide('pgliteTemplate', template);
    return removeTemplate;
  }
  project.provide('pgliteTemplate', null);
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
