import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getInbound, insertInbound } from '../../db/inbound.js';
import { inboundMessages } from '../../db/schema.js';
import { realMode } from '../helpers/mode.js';
import { ticketDetail, waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { startDatabaseProxy, viaProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

let t: TestApp;
let proxy: TcpProxy | null = null;
beforeAll(async () => {
  if (realMode) proxy = await startDatabaseProxy();
  t = await startTestApp({
    env: { MAILROOM_MAX_ATTEMPTS: '2' },
    rewriteDatabaseUrl: (url) => viaProxy(url, proxy!),
  });
});
afterAll(async () => {
  await t?.close();
  await proxy?.close();
});

async function spoolCount(): Promise<number> {
  return (await t.db.select({ id: inboundMessages.id }).from(inboundMessages)).length;
}

function collectingIO() {
  const io = { text: '', errors: '', out: (s: string) => void (io.text += s), err: (s: string) => void (io.errors += s), isTTY: false };
  return io;
}

/** Storage failures a daemon meets: a write the database refuses, and a database that is gone. */
const failures: Array<[string, { fail: () => Promise<void>; heal: () => Promise<void> }]> = [
  [
    'refuses writes',
    {
      fail: async () => {
        await t.db.execute(sql`create or replace function mailroom_test_fail() returns trigger language plpgsql as $$ begin raise exception 'disk full (test)'; end $$`);
        await t.db.execute(sql`create trigger mailroom_test_fail before insert on inbound_messages for each row execute function mailroom_test_fail()`);
      },
      heal: async () => {
        await t.db.execute(sql`drop trigger mailroom_test_fail on inbound_messages`);
      },
    },
  ],
];
if (realMode) {
  failures.push(['is unreachable', { fail: () => proxy!.cut(), heal: () => proxy!.restore() }]);
}

describe('no loss when things break', () => {
  it.each(failures)('answers 451 4.3.0 while storage %s, stores nothing half-written, and accepts again once it is back', async (_name, failure) => {
    const before = await spoolCount();
    await failure.fail();
    try {
      const small = await t.send({ from: 'ana@cliente.es', to: ['soporte@example.com'] }, rawMessage({ from: 'ana@cliente.es', subject: 'storage down' }));
      expect(small.response).toMatch(/^451 4\.3\.0 /);
      const large = await t.send(
        { from: 'ana@cliente.es', to: ['soporte@example.com'] },
        rawMessage({ from: 'ana@cliente.es', subject: 'storage down, large', body: 'x'.repeat(600 * 1024) }),
      );
      expect(large.response).toMatch(/^451 4\.3\.0 /);
    } finally {
      await failure.heal();
    }
    expect(await spoolCount()).toBe(before);
    expect(t.logs.events('smtp.spool_failed').length).toBeGreaterThanOrEqual(2);
    const again = await t.send({ from: 'ana@cliente.es', to: ['soporte@example.com'] }, rawMessage({ from: 'ana@cliente.es', subject: 'back again' }));
    expect(again.code).toBe(250);
    expect((await waitForInbound(t, queuedId(again))).state).toBe('processed');
  });

  it('processes a received row that never got a job, at the next sweep and at start-up', async () => {
    const envelope = { mailFrom: 'lost@cliente.es', rcptTo: ['soporte@example.com'], clientAddress: '127.0.0.1', clientHelo: 'x', tls: false, receivedAt: new Date() };
    const raw = Buffer.from(rawMessage({ from: 'lost@cliente.es', subject: 'lost job' }));
    // As if the daemon crashed between the commit and the enqueue.
    const periodicId = await insertInbound(t.db, envelope, raw, 'sha');
    await t.db.execute(sql`update inbound_messages set updated_at = now() - interval '10 minutes' where id = ${periodicId}`);
    expect(await t.app.sweeper.sweep()).toBeGreaterThanOrEqual(1);
    expect((await waitForInbound(t, periodicId)).state).toBe('processed');

    const startupId = await insertInbound(t.db, envelope, Buffer.from(rawMessage({ from: 'lost@cliente.es', subject: 'lost job 2' })), 'sha');
    await t.restart();
    expect((await waitForInbound(t, startupId)).state).toBe('processed');
    expect(t.logs.events('sweeper.pass').some((line) => line.startup === true)).toBe(true);
  });

  it('files a message it cannot parse as a ticket with its raw text, tagged parse_failed, and keeps the row failed for replay', async () => {
    const envelope = { mailFrom: 'raro@cliente.es', rcptTo: ['soporte@example.com'], clientAddress: '127.0.0.1', clientHelo: 'x', tls: false, receivedAt: new Date() };
    // Past mailparser's header limit: a relay in front of mailroom, or an older mailroom, let it in.
    const raw = Buffer.from(`From: Raro <raro@cliente.es>\r\nSubject: Factura\r\nX-Huge: ${'a'.repeat(2_000_000)}\r\n\r\nNo puedo pagar la factura.\r\n`);
    const id = await insertInbound(t.db, envelope, raw, 'sha');
    await t.restart();
    const row = await waitFor(async () => {
      const current = await getInbound(t.db, id);
      return current?.state === 'failed' ? current : undefined;
    }, 'the unreadable row to be filed', 20_000);
    expect(row.lastError).toMatch(/^PARSE_FAILED: /);
    expect(row.ticketId).not.toBeNull();
    const detail = await ticketDetail(t, row.ticketId!);
    expect(detail.ticket.subject).toBe('Factura');
    expect(detail.ticket.tags).toEqual(['parse_failed']);
    expect(detail.participants.map((p) => p.address)).toEqual(['raro@cliente.es']);
    expect(detail.articles).toHaveLength(1);
    expect(detail.articles[0]!.visibleText).toContain('No puedo pagar la factura.');
    expect(detail.events.find((e) => e.type === 'message.parse_failed')?.data).toMatchObject({ inboundId: id });
    // A replay finds the ticket already there and files nothing twice.
    expect(await t.app.runCommand(['inbound', 'replay', String(id)], collectingIO())).toBe(0);
    await waitFor(async () => ((await getInbound(t.db, id))?.attempts ?? 0) >= 1 && (await getInbound(t.db, id))?.state === 'failed', 'the replay to end');
    const tickets = await t.db.select({ id: inboundMessages.ticketId }).from(inboundMessages).where(sql`${inboundMessages.id} = ${id}`);
    expect(tickets[0]!.id).toBe(row.ticketId);
    expect((await ticketDetail(t, row.ticketId!)).articles).toHaveLength(1);
  });

  it('marks a row failed after its attempts, keeps its bytes, and replays it once fixed', async () => {
    await t.db.execute(sql`create or replace function mailroom_test_poison() returns trigger language plpgsql as $$ begin if new.subject = 'poison' then raise exception 'poisoned article (test)'; end if; return new; end $$`);
    await t.db.execute(sql`create trigger mailroom_test_poison before insert on articles for each row execute function mailroom_test_poison()`);
    const result = await t.send({ from: 'pablo@cliente.es', to: ['soporte@example.com'] }, rawMessage({ from: 'pablo@cliente.es', subject: 'poison' }));
    const id = queuedId(result);
    const failed = await waitForInbound(t, id, 20_000);
    expect(failed.state).toBe('failed');
    expect(failed.attempts).toBe(2);
    expect(failed.lastError).toContain('poisoned article (test)');
    expect(failed.sizeBytes).toBeGreaterThan(0);

    const listed = collectingIO();
    expect(await t.app.runCommand(['inbound', 'list', '--state', 'failed', '--json'], listed)).toBe(0);
    expect((JSON.parse(listed.text) as { inbound: Array<{ id: number }> }).inbound.map((r) => r.id)).toContain(id);

    await t.db.execute(sql`drop trigger mailroom_test_poison on articles`);
    const replay = collectingIO();
    expect(await t.app.runCommand(['inbound', 'replay', '--failed', '--json'], replay)).toBe(0);
    expect(JSON.parse(replay.text)).toMatchObject({ replayed: expect.arrayContaining([id]), queued: true });
    const done = await waitFor(async () => {
      const row = await getInbound(t.db, id);
      return row?.state === 'processed' ? row : undefined;
    }, 'replayed row to be processed');
    expect(done.ticketId).not.toBeNull();

    // Replaying a processed row again adds nothing.
    const again = collectingIO();
    expect(await t.app.runCommand(['inbound', 'replay', String(id)], again)).toBe(0);
    const row = await waitFor(async () => {
      const current = await getInbound(t.db, id);
      return current?.state === 'processed' && current.attempts === 1 ? current : undefined;
    }, 'second replay to finish');
    expect(row.articleId).toBe(done.articleId);
  });
});
