import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { startTestDns, type TestDns } from './dns-server.js';
import { databaseUrl, TEMPLATE_DATABASE } from './mode.js';
import { TEST_SECRET } from './test-app.js';

/**
 * Environments for spawning the real `mailroom` command: an embedded one (a fresh data folder)
 * and, in the real-services run, one on a fresh PostgreSQL database with an in-process queue (no
 * REDIS_URL, so no other suite's daemon takes its jobs). Call `setup` before and `teardown` after.
 */
export function cliEnvironments(prefix: string, extra: Record<string, string> = {}) {
  let dns: TestDns | null = null;
  const dataDirs: string[] = [];
  const databases: string[] = [];
  const embedded = (): Record<string, string> => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), `mailroom-${prefix}-`));
    dataDirs.push(dataDir);
    return { MAILROOM_DATA_DIR: dataDir, MAILROOM_SMTP_PORT: '0', MAILROOM_HTTP_PORT: '0', MAILROOM_LOG_LEVEL: 'info', MAILROOM_DNS_SERVERS: dns!.address, ...extra };
  };
  return {
    async setup(): Promise<void> {
      dns = await startTestDns();
    },
    async teardown(): Promise<void> {
      for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
      await dns?.close();
      for (const name of databases) {
        const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
        await admin.unsafe(`drop database if exists ${name} with (force)`).finally(() => admin.end());
      }
    },
    embedded,
    async postgres(): Promise<Record<string, string>> {
      const name = `mailroom_${prefix.replace(/\W/g, '_')}_${randomBytes(5).toString('hex')}`;
      databases.push(name);
      const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
      await admin.unsafe(`create database ${name} template ${TEMPLATE_DATABASE}`).finally(() => admin.end());
      return { ...embedded(), DATABASE_URL: databaseUrl(name), MAILROOM_SECRET: TEST_SECRET, MAILROOM_OUTBOUND: 'outbox' };
    },
  };
}
