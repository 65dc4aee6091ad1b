import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';

/** A server that accepts every connection and closes it without a word: a port proxy whose database is down. */
async function startSilentCloser(): Promise<{ url: string; accepted: () => number; close: () => Promise<void> }> {
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted += 1;
    socket.resume();
    socket.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `postgres://mailroom:hunter2@127.0.0.1:${port}/mailroom`,
    accepted: () => accepted,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('connecting to PostgreSQL behind a proxy whose database is down', () => {
  let database: Database | null = null;
  let closer: Awaited<ReturnType<typeof startSilentCloser>> | null = null;
  afterEach(async () => {
    await database?.close();
    await closer?.close();
    database = null;
    closer = null;
  });

  it('fails the query after three unanswered connections instead of reconnecting for ever', async () => {
    closer = await startSilentCloser();
    database = await openDatabase({ url: closer.url });
    const started = Date.now();
    await expect(database.ping()).rejects.toThrow(/accepted the connection and closed it without answering, 3 times in a row/);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(closer.accepted()).toBeLessThanOrEqual(4);
    // The pool is not stuck: the next query tries again, and fails the same way.
    await expect(database.ping()).rejects.toThrow(/3 times in a row/);
  });

  it('fails the migrations the same way, so that start gives up in seconds', async () => {
    closer = await startSilentCloser();
    database = await openDatabase({ url: closer.url });
    await expect(migrateDatabase(database, closer.url)).rejects.toThrow(/closed it without answering/);
  });

  it('fails at once where nothing listens', async () => {
    closer = await startSilentCloser();
    const url = closer.url;
    await closer.close();
    closer = null;
    database = await openDatabase({ url });
    await expect(database.ping()).rejects.toThrow(/ECONNREFUSED/);
  });
});
