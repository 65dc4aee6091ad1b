import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { postgresSocket, type Database } from './client.js';

const MIGRATION_LOCK_KEY = 7_242_113_001;

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Applies the committed migrations. On PostgreSQL this uses its own single connection
 * (`max: 1`) so the advisory lock drizzle takes and the DDL run on one session.
 */
export async function migrateDatabase(database: Database, url?: string): Promise<void> {
  if (database.kind === 'postgres') {
    if (!url) throw new Error('migrateDatabase needs the DATABASE_URL for PostgreSQL');
    // Bounded like the pool: a server that accepts and never answers fails the start in 5 s.
    const client = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5, ...postgresSocket() });
    try {
      // Several daemons may start at once against one database: one migrates, the others wait.
      await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
      await migratePostgres(drizzlePostgres(client), { migrationsFolder: MIGRATIONS_FOLDER });
      await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    } finally {
      await client.end({ timeout: 5 });
    }
    return;
  }
  const client = (database.db as unknown as { $client: PGlite }).$client;
  const { drizzle: drizzlePglite } = await import('drizzle-orm/pglite');
  const { migrate: migratePglite } = await import('drizzle-orm/pglite/migrator');
  await migratePglite(drizzlePglite(client), { migrationsFolder: MIGRATIONS_FOLDER });
}
