import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { copyRunnerOf } from '../../db/binary-copy.js';
import { eq } from 'drizzle-orm';
import { appendInboundChunk, beginChunkedInbound, finishChunkedInbound, insertInboundBatch, loadInboundRaw } from '../../db/inbound.js';
import { inboundMessages } from '../../db/schema.js';
import { realMode } from '../helpers/mode.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

// In real mode the spool is written with binary COPY (db/binary-copy.ts); embedded, with INSERTs.
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

const envelope = {
  mailFrom: 'josé@correo.example',
  rcptTo: ['soporte@example.com', 'ventas+urgente@example.com', 'ñandú@example.com'],
  clientAddress: '::ffff:127.0.0.1',
  clientHelo: null,
  tls: true,
  receivedAt: new Date('2026-11-21T10:11:12.345Z'),
};

const getInbound = async (_db: unknown, id: number) => (await t.db.select().from(inboundMessages).where(eq(inboundMessages.id, id)))[0] ?? null;

describe('spool storage', () => {
  it('uses binary COPY exactly when the database is PostgreSQL', () => {
    expect(copyRunnerOf(t.db) !== null).toBe(realMode);
  });

  it('stores a batch of messages with their envelopes and exact bytes, ids in order', async () => {
    const raws = [Buffer.from('Subject: a\r\n\r\nuno\r\n'), randomBytes(70_000), Buffer.from([0, 0xff, 0x0a, 0x5c, 0x78])];
    const ids = await insertInboundBatch(t.db, raws.map((raw, i) => ({ envelope: { ...envelope, clientHelo: i === 1 ? 'mx.ejemplo.es' : null }, raw, sha256: `sha-${i}` })));
    expect(ids).toHaveLength(3);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    for (const [i, id] of ids.entries()) {
      const row = (await getInbound(t.db, id))!;
      expect({ ...row, raw: null }).toMatchObject({
        mailFrom: envelope.mailFrom,
        rcptTo: envelope.rcptTo,
        clientAddress: envelope.clientAddress,
        clientHelo: i === 1 ? 'mx.ejemplo.es' : null,
        tls: true,
        sizeBytes: raws[i]!.length,
        sha256: `sha-${i}`,
        state: 'received',
        chunkCount: 0,
      });
      expect(row.receivedAt.toISOString()).toBe(envelope.receivedAt.toISOString());
      expect((await loadInboundRaw(t.db, row)).equals(raws[i]!)).toBe(true);
    }
  });

  it('stores a large message from chunks given in pieces', async () => {
    const id = await beginChunkedInbound(t.db, envelope);
    const parts = [randomBytes(300_000), randomBytes(5), randomBytes(120_000)];
    await appendInboundChunk(t.db, id, 0, [parts[0]!, parts[1]!]);
    await appendInboundChunk(t.db, id, 1, [parts[2]!]);
    const total = parts.reduce((n, p) => n + p.length, 0);
    await finishChunkedInbound(t.db, id, { sizeBytes: total, sha256: 'x', chunkCount: 2 });
    const row = (await getInbound(t.db, id))!;
    expect(row.state).toBe('received');
    expect((await loadInboundRaw(t.db, row)).equals(Buffer.concat(parts))).toBe(true);
    // reading it back leaves every pooled connection usable (postgres.js could leave one paused)
    for (let i = 0; i < 25; i++) await insertInboundBatch(t.db, [{ envelope, raw: Buffer.from(`next ${i}`), sha256: 'n' }]);
  });

  it('reports a write the database refuses instead of waiting for it', async () => {
    // no such spool row: the foreign key refuses the chunk after its last byte was sent
    const refused = await appendInboundChunk(t.db, 999_999_999, 0, [Buffer.from('orphan')]).then(() => null, (err: unknown) => err as Error);
    expect(`${refused?.message} ${(refused?.cause as Error | undefined)?.message}`).toMatch(/foreign key/i);
    // and the pool is still good afterwards
    const [id] = await insertInboundBatch(t.db, [{ envelope, raw: Buffer.from('after'), sha256: 's' }]);
    expect((await loadInboundRaw(t.db, (await getInbound(t.db, id!))!)).toString()).toBe('after');
  });
});
