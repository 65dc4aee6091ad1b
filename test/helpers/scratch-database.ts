import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll } from 'vitest';
import { openDatabase, type Database } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { databaseUrl, realMode, TEMPLATE_DATABASE } from './mode.js';

/**
 * A migrated database of the suite's own, without a daemon: a fresh copy of the template on
 * PostgreSQL (dropped by `close`), an in-memory PGlite in embedded mode.
 */
export async function openScratchDatabase(): Promise<{ database: Database; /** PostgreSQL only */ name: string | null; url: string | null; close(): Promise<void> }> {
  if (!realMode) {
    const database = await openDatabase({ pgliteDir: 'memory://' });
    await migrateDatabase(database);
    return { database, name: null, url: null, close: () => database.close() };
  }
  const scratch = `mailroom_t_${randomBytes(6).toString('hex')}`;
  const admin = () => postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
  const creating = admin();
  await creating.unsafe(`create database ${scratch} template ${TEMPLATE_DATABASE}`).finally(() => creating.end());
  const database = await openDatabase({ url: databaseUrl(scratch), poolSize: 2, copyConnections: 1 });
  return {
    database,
    name: scratch,
    url: databaseUrl(scratch),
    async close() {
      await database.close();
      const dropping = admin();
      await dropping.unsafe(`drop database if exists ${scratch} with (force)`).finally(() => dropping.end());
    },
  };
}

/** openScratchDatabase for the whole file: opened before its tests (given to `onOpen`), closed after. */
export function useScratchDatabase(onOpen: (database: Database) => void): { readonly url: string | null; readonly name: string | null } {
  let scratch: Awaited<ReturnType<typeof openScratchDatabase>> | undefined;
  beforeAll(async () => {
    scratch = await openScratchDatabase();
    onOpen(scratch.database);
  });
  afterAll(async () => {
    await scratch?.close();
  });
  return {
    get url() {
      return scratch?.url ?? null;
    },
    get name() {
      return scratch?.name ?? null;
    },
  };
}
