import { createHash, randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../db/client.js';
import { createCopyConnections } from '../../db/copy-connections.js';
import { appendInboundChunk, beginChunkedInbound, finishChunkedInbound, getInbound, insertInboundBatch, loadInboundRaw } from '../../db/inbound.js';
import { inboundMessages } from '../../db/schema.js';
import { realMode } from '../helpers/mode.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

/*
 * postgres.js pipelines queries onto a pooled connection that is busy. A COPY on such a
 * connection had other statements written into its data stream ("unexpected message type
 * during COPY", the connection dropped), queries refused with COPY_IN_PROGRESS, and a trailing
 * CopyFail that failed the next COPY ("COPY from stdin failed: null"), one of them as an uncaught
 * exception. COPY now runs on connections of its own (db/copy-connections.ts).
 */
let t: TestApp;
let database: Database | null = null;
/** What would have crashed a daemon process (its main.ts treats both as fatal). */
const crashes: string[] = [];
const onUncaught = (err: unknown): void => void crashes.push(err instanceof Error ? (err.stack ?? err.message) : String(err));

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  t = await startTestApp();
  // One pooled connection and one COPY connection: every statement has to share, as under load.
  if (realMode) database = await openDatabase({ url: t.databaseUrl!, poolSize: 1, copyConnections: 1 });
});
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
  await database?.close();
  await t?.close();
});

const envelope = { mailFrom: 'ana@cliente.es', rcptTo: ['soporte@example.com'], clientAddress: '127.0.0.1', clientHelo: null, tls: false, receivedAt: new Date() };
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('spool writes and reads running at the same time', () => {
  it('all succeed, byte-exact, when small batches, chunked messages, read-backs and ordinary queries share one pooled connection', async () => {
    const db = database?.db ?? t.db;
    const large = await Promise.all(
      [0, 1, 2].map(async (n) => {
        const parts = [randomBytes(200_000), randomBytes(90_000 + n)];
        const id = await beginChunkedInbound(db, envelope);
        await Promise.all(parts.map((part, seq) => appendInboundChunk(db, id, seq, [part])));
        const raw = Buffer.concat(parts);
        await finishChunkedInbound(db, id, { sizeBytes: raw.length, sha256: sha(raw), chunkCount: parts.length });
        return { id, raw };
      }),
    );
    const small = Array.from({ length: 40 }, (_, i) => Buffer.from(`Subject: pequeño ${i}\r\n\r\n${randomBytes(2000).toString('base64')}\r\n`));
    const work: Array<Promise<unknown>> = [
      ...small.map((raw) => insertInboundBatch(db, [{ envelope, raw, sha256: sha(raw) }])),
      ...large.flatMap(({ id }) => [0, 1].map(async () => loadInboundRaw(db, (await db.select().from(inboundMessages).where(eq(inboundMessages.id, id)))[0]!))),
      ...Array.from({ length: 40 }, () => db.execute(sql`select count(*) from inbound_messages`)),
    ];
    const outcomes = await Promise.allSettled(work);
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason).slice(0, 200))).toEqual([]);
    const ids = outcomes.slice(0, small.length).map((o) => (o as PromiseFulfilledResult<number[]>).value[0]!);
    for (const [i, id] of ids.entries()) {
      const row = (await getInbound(db, id))!;
      expect(row.sha256).toBe(sha(small[i]!));
    }
    for (const [i, { raw }] of large.entries()) {
      for (const read of [outcomes[small.length + 2 * i], outcomes[small.length + 2 * i + 1]]) {
        expect((read as PromiseFulfilledResult<Buffer>).value.equals(raw)).toBe(true);
      }
    }
    expect(crashes).toEqual([]);
  });
});

if (realMode) {
  describe('COPY connections (PostgreSQL)', () => {
    const backendsOf = async (applicationName: string) =>
      (await t.db.execute(sql`select pid, state, query from pg_stat_activity where application_name = ${applicationName} and datname = current_database()`)) as unknown as Array<{ pid: number; state: string; query: string }>;

    it('drops a connection whose backend is terminated mid-COPY, answers the write with an error, and writes the next one on a new connection', async () => {
      const db = database!.db;
      const raw = randomBytes(48 * 1024 * 1024);
      const write = insertInboundBatch(db, [{ envelope, raw, sha256: 'terminated mid-copy' }]).then(
        () => null,
        (err: unknown) => err as Error,
      );
      const [copying] = await waitFor(async () => {
        const rows = (await backendsOf('mailroom-copy')).filter((row) => row.state === 'active' && /^copy inbound_messages/.test(row.query));
        return rows.length > 0 ? rows : null;
      }, 'the COPY to be running', 10_000);
      await t.db.execute(sql`select pg_terminate_backend(${copying!.pid})`);
      const failure = await write;
      expect(failure?.message).toMatch(/terminat|CONNECTION|ECONNRESET|EPIPE|closed/i);
      expect(await t.db.$count(inboundMessages, eq(inboundMessages.sha256, 'terminated mid-copy'))).toBe(0);

      const after = Buffer.from('Subject: después\r\n\r\nsigue funcionando\r\n');
      const [id] = await insertInboundBatch(db, [{ envelope, raw: after, sha256: sha(after) }]);
      expect((await getInbound(db, id!))!.sha256).toBe(sha(after));
      expect((await backendsOf('mailroom-copy')).map((row) => row.pid)).not.toContain(copying!.pid);
      expect(crashes).toEqual([]);
    });

    it('closes a connection whose work outlives the deadline, answers the caller, and runs the next work on a fresh connection', async () => {
      const name = `copy-deadline-${randomBytes(3).toString('hex')}`;
      const connections = createCopyConnections({ open: () => postgres(t.databaseUrl!, { max: 1, onnotice: () => {}, connection: { application_name: name } }), size: 1, deadlineMs: 500 });
      try {
        const started = Date.now();
        // a COPY whose data never comes, as on a connection that stopped answering
        const stalled = async (db: postgres.Sql): Promise<void> => {
          const stream = await db.unsafe('copy inbound_chunks (inbound_id, seq, data) from stdin (format binary)').writable();
          stream.on('error', () => undefined);
          await new Promise(() => undefined);
        };
        const stuck = await connections.run(stalled).then(
          () => null,
          (err: unknown) => err as Error,
        );
        expect(stuck?.message).toMatch(/did not finish within 500 ms/);
        expect(Date.now() - started).toBeLessThan(5_000);
        await waitFor(async () => (await backendsOf(name)).length === 0, 'the stalled COPY\'s backend to be gone', 10_000);
        // a second caller waiting for the only connection is not held up by the stuck one either
        const [row] = await connections.run((db) => db<Array<{ n: number }>>`select 2 as n`);
        expect(row!.n).toBe(2);
      } finally {
        await connections.close();
      }
    });

    it('never opens more COPY connections than its size, however many writes wait', async () => {
      const db = database!.db;
      const seen = new Set<number>();
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          for (const row of await backendsOf('mailroom-copy')) seen.add(row.pid);
          expect((await backendsOf('mailroom-copy')).length).toBeLessThanOrEqual(1);
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      })();
      await Promise.all(Array.from({ length: 30 }, (_, i) => insertInboundBatch(db, [{ envelope, raw: Buffer.from(`message ${i}`), sha256: `size-${i}` }])));
      watching = false;
      await watcher;
      expect(seen.size).toBeGreaterThanOrEqual(1);
    });
  });
}
