import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpoolBatcher } from '../../daemon/smtp/spool-batcher.js';
import { openDatabase, type Database } from '../../db/client.js';
import { getInbound, loadInboundRaw } from '../../db/inbound.js';
import { inboundMessages } from '../../db/schema.js';
import { migrateDatabase } from '../../db/migrate.js';
import { eq, sql } from 'drizzle-orm';

let database: Database;
beforeAll(async () => {
  database = await openDatabase({ pgliteDir: 'memory://' });
  await migrateDatabase(database);
});
afterAll(async () => {
  await database?.close();
});

const envelope = (n: number) => ({ mailFrom: `s${n}@x.example`, rcptTo: ['soporte@example.com'], clientAddress: '127.0.0.1', clientHelo: 'h', tls: false, receivedAt: new Date() });

describe('group commit of small messages', () => {
  it('gives each of many concurrent messages its own row, with its own bytes', async () => {
    const batcher = createSpoolBatcher(database.db, { maxRows: 7 });
    const ids = await Promise.all(Array.from({ length: 50 }, (_, n) => batcher.insert(envelope(n), Buffer.from(`message ${n}`), `sha${n}`)));
    expect(new Set(ids).size).toBe(50);
    for (const [n, id] of ids.entries()) {
      const [row] = await database.db.select().from(inboundMessages).where(eq(inboundMessages.id, id));
      expect(row!.mailFrom).toBe(`s${n}@x.example`);
      expect((await loadInboundRaw(database.db, row!)).toString()).toBe(`message ${n}`);
    }
    expect((await getInbound(database.db, ids[0]!))!.state).toBe('received');
  });

  it('fails every message of a batch the database refuses, and the next batch succeeds', async () => {
    const batcher = createSpoolBatcher(database.db, { maxInFlight: 1 });
    await database.db.execute(sql`create or replace function spool_fail() returns trigger language plpgsql as $$ begin if new.sha256 = 'poison' then raise exception 'refused'; end if; return new; end $$`);
    await database.db.execute(sql`create trigger spool_fail before insert on inbound_messages for each row execute function spool_fail()`);
    // The first message goes alone; the next three wait and share a batch with the poisoned one.
    const first = batcher.insert(envelope(1), Buffer.from('a'), 'ok');
    const shared = [batcher.insert(envelope(2), Buffer.from('b'), 'ok'), batcher.insert(envelope(3), Buffer.from('c'), 'poison')];
    expect(await first).toBeGreaterThan(0);
    const settled = await Promise.allSettled(shared);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    await database.db.execute(sql`drop trigger spool_fail on inbound_messages`);
    expect(await batcher.insert(envelope(4), Buffer.from('d'), 'ok')).toBeGreaterThan(0);
  });

  it('answers the messages of a batch that does not commit in time, frees its slot, and writes the next one once storage moves again', async () => {
    const batcher = createSpoolBatcher(database.db, { maxInFlight: 1, deadlineMs: 300 });
    // PGlite runs one transaction at a time: while this one stays open, every write waits, as on a connection that stopped answering
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const blocking = database.db.transaction(async (tx) => {
      await tx.execute(sql`select 1`);
      await held;
    });
    const started = Date.now();
    const stuck = [batcher.insert(envelope(5), Buffer.from('e'), 'ok'), batcher.insert(envelope(6), Buffer.from('f'), 'ok')];
    const settled = await Promise.allSettled(stuck);
    expect(settled.map((s) => (s.status === 'rejected' ? String(s.reason) : 'stored'))).toEqual([
      'Error: the spool batch did not commit within 300 ms',
      'Error: the spool batch did not commit within 300 ms',
    ]);
    expect(Date.now() - started).toBeLessThan(3_000);
    release();
    await blocking;
    expect(await batcher.insert(envelope(7), Buffer.from('g'), 'ok')).toBeGreaterThan(0);
  });
});
