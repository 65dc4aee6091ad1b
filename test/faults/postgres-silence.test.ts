import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../db/client.js';
import { startDatabaseProxy, viaProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A network that goes silent (connections stay open, nothing comes back) is the failure TCP takes
 * hours to notice: postgres.js would wait for ever on it. The pool's statement deadline must give
 * every statement, and every transaction, an answer within bounded time, and the pool must work
 * again once the network does.
 */
const DEADLINE_MS = 1_500;

let proxy: TcpProxy;
let database: Database;

beforeAll(async () => {
  proxy = await startDatabaseProxy();
  database = await openDatabase({ url: viaProxy(process.env.DATABASE_URL!, proxy), poolSize: 2, statementDeadlineMs: DEADLINE_MS });
  await database.db.execute(sql`select 1`);
});
afterAll(async () => {
  proxy.unsilence();
  await database?.close();
  await proxy?.close();
});

async function timed(work: Promise<unknown>): Promise<{ ms: number; error: string }> {
  const started = Date.now();
  const error = await work.then(
    () => 'no error',
    // drizzle wraps the driver's error ("Failed query: …") and keeps it as the cause
    (err: unknown) => (err instanceof Error ? [err.message, err.cause instanceof Error ? err.cause.message : ''].join(' <- ') : String(err)),
  );
  return { ms: Date.now() - started, error };
}

describe('PostgreSQL that stops answering on an open connection', () => {
  it('fails a statement at the deadline instead of waiting for ever', async () => {
    proxy.silence();
    try {
      const result = await timed(database.db.execute(sql`select 1`));
      expect(result.error).toMatch(/did not answer a statement within 1500 ms|sent nothing for 1500 ms/);
      expect(result.ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
      expect(result.ms).toBeLessThan(DEADLINE_MS + 1_500);
    } finally {
      proxy.unsilence();
    }
    await waitFor(async () => (await timed(database.db.execute(sql`select 1`))).error === 'no error', 'the pool answering again', 15_000);
  });

  it('ends a transaction whose statement and rollback get no answer, and closes its connection', async () => {
    const result = await timed(
      database.db.transaction(async (tx) => {
        await tx.execute(sql`select 1`);
        proxy.silence();
        // postgres.js sends ROLLBACK on the same silent connection after this fails: only closing
        // the connection ends the transaction.
        await tx.execute(sql`select 2`);
      }),
    );
    proxy.unsilence();
    // the transaction ends when postgres.js sees its connection closed
    expect(result.error).toMatch(/did not answer a statement within 1500 ms|sent nothing for 1500 ms|CONNECTION_CLOSED/);
    expect(result.ms).toBeLessThan(2 * DEADLINE_MS + 1_500);
    // The pool works again: the silent connection was replaced by a new one.
    await waitFor(async () => (await timed(database.db.execute(sql`select 1`))).error === 'no error', 'the pool answering again', 15_000);
    const rows = await database.db.transaction(async (tx) => tx.execute(sql`select 41 + 1 as answer`));
    expect(JSON.stringify(rows)).toContain('42');
  });

  it('leaves a slow statement alone while its connection answers within the deadline', async () => {
    const result = await timed(database.db.execute(sql`select pg_sleep(${(DEADLINE_MS * 0.5) / 1000})`));
    expect(result.error).toBe('no error');
  });

  it('has the server give up on a statement before the client does', async () => {
    const result = await timed(database.db.execute(sql`select pg_sleep(${(DEADLINE_MS * 2) / 1000})`));
    expect(result.error).toMatch(/statement timeout/);
    expect(result.ms).toBeLessThan(DEADLINE_MS);
  });
});
