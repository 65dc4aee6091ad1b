import { createHash } from 'node:crypto';
import net from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getInbound, loadInboundRaw } from '../../db/inbound.js';
import { articles, inboundMessages } from '../../db/schema.js';
import { SmtpSession } from '../helpers/load-client.js';
import { waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

const MAX_CONNECTIONS = 5;
/**
 * The daemon's default idle timeout is 60 s; tests lower it with MAILROOM_SMTP_IDLE_TIMEOUT_MS
 * (passed to smtp-server as socketTimeout).
 */
const IDLE_TIMEOUT_MS = 1_000;

let t: TestApp;
const sessions: SmtpSession[] = [];
beforeAll(async () => {
  t = await startTestApp({ env: { MAILROOM_SMTP_MAX_CONNECTIONS: String(MAX_CONNECTIONS), MAILROOM_SMTP_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS), MAILROOM_LOG_LEVEL: 'info' } });
});
afterEach(async () => {
  for (const session of sessions.splice(0)) session.close();
  // Whatever a case did, a polite sender still gets its mail in afterwards.
  await expectStillAccepting();
});
afterAll(async () => {
  await t?.close();
});

async function open(): Promise<{ session: SmtpSession; greeting: string }> {
  const session = await SmtpSession.open('127.0.0.1', t.smtpPort);
  sessions.push(session);
  return { session, greeting: await session.reply() };
}

/** A session that is past EHLO. */
async function ready(): Promise<SmtpSession> {
  const { session, greeting } = await open();
  expect(greeting).toMatch(/^220 /);
  expect(await session.command('EHLO abuse.test')).toMatch(/^250 /);
  return session;
}

async function expectStillAccepting(): Promise<void> {
  // A closed slot is freed when the server sees the close: retry a refused greeting briefly.
  const sent = await waitFor(async () => {
    const result = await t.send({ from: 'ana@cliente.es', to: ['soporte@example.com'] }, rawMessage({ from: 'ana@cliente.es', subject: 'después del abuso' }));
    return result.code === 250 ? result : undefined;
  }, 'a normal mail to be accepted', 10_000);
  expect(sent.response).toMatch(/^250 2\.6\.0 Message queued as \d+$/);
}

const spoolCount = async () => (await t.db.select({ id: inboundMessages.id }).from(inboundMessages)).length;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Sends one message on a ready session with the caller's exact bytes (dot-stuffed here). */
async function deliver(session: SmtpSession, from: string, to: string, raw: Buffer): Promise<string> {
  expect(await session.command(`MAIL FROM:<${from}>`)).toMatch(/^250 /);
  expect(await session.command(`RCPT TO:<${to}>`)).toMatch(/^250 /);
  expect(await session.command('DATA')).toMatch(/^354 /);
  const text = raw.toString('latin1');
  const stuffed = Buffer.from((text.startsWith('.') ? '.' : '') + text.replace(/\r\n\./g, '\r\n..'), 'latin1');
  await session.write(Buffer.concat([stuffed, Buffer.from('.\r\n')]));
  return session.reply();
}

describe('SMTP abuse', () => {
  it(`refuses connections over MAILROOM_SMTP_MAX_CONNECTIONS (${MAX_CONNECTIONS}) with 421 and takes new ones once a slot is free`, async () => {
    const held: SmtpSession[] = [];
    for (let i = 0; i < MAX_CONNECTIONS; i += 1) {
      const { session, greeting } = await open();
      expect(greeting).toBe('220 mailroom.test ESMTP mailroom ESMTP');
      held.push(session);
    }
    const { session: extra, greeting } = await open();
    expect(greeting).toBe('421 mailroom.test Too many connected clients, try again in a moment');
    expect(await extra.closedWithin(2_000)).toBe(true);

    held[0]!.close();
    const again = await waitFor(async () => {
      const next = await open();
      return next.greeting.startsWith('220 ') ? next : (next.session.close(), undefined);
    }, 'a free slot after one client left', 5_000);
    expect(await again.session.command('EHLO abuse.test')).toMatch(/^250 /);
    for (const session of held) session.close();
  });

  const idleCases: Array<[string, (session: SmtpSession) => Promise<void>]> = [
    ['a client that says nothing after the greeting', async () => {}],
    ['a client that says nothing after EHLO', async (session) => void expect(await session.command('EHLO abuse.test')).toMatch(/^250 /)],
    ['a client that stops in the middle of a command line', async (session) => session.write('MAIL FROM:<ana@clien')],
    [
      'a client that stops in the middle of DATA',
      async (session) => {
        expect(await session.command('EHLO abuse.test')).toMatch(/^250 /);
        expect(await session.command('MAIL FROM:<ana@cliente.es>')).toMatch(/^250 /);
        expect(await session.command('RCPT TO:<soporte@example.com>')).toMatch(/^250 /);
        expect(await session.command('DATA')).toMatch(/^354 /);
        await session.write('From: ana@cliente.es\r\nSubject: a medias\r\n\r\nEsto no term');
      },
    ],
  ];
  it.each(idleCases)('disconnects %s with 421 4.4.2 after the idle timeout, keeping nothing of it', async (_name, act) => {
    const before = await spoolCount();
    const { session, greeting } = await open();
    expect(greeting).toMatch(/^220 /);
    await act(session);
    const quietSince = Date.now();
    expect(await session.reply()).toBe('421 4.4.2 Timeout - closing connection');
    const waited = Date.now() - quietSince;
    expect(waited).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 100);
    expect(waited).toBeLessThan(IDLE_TIMEOUT_MS + 4_000);
    expect(await session.closedWithin(2_000)).toBe(true);
    expect(await spoolCount()).toBe(before);
  });

  /** RFC 5321 §4.5.3.1.4: a command line is at most 512 octets; §4.5.3.1.10: "500 Line too long". */
  const overlong: Array<[string, string[], string, RegExp]> = [
    ['MAIL FROM with a 600-byte address', [], `MAIL FROM:<${'a'.repeat(600)}@cliente.es>`, /^501 5\.1\.7 /],
    ['RCPT TO with a 600-byte address', ['MAIL FROM:<ana@cliente.es>'], `RCPT TO:<${'a'.repeat(600)}@example.com>`, /^501 5\.1\.3 /],
    ['EHLO with a 1 KB host name', [], `EHLO ${'h'.repeat(1024)}`, /^501 /],
    ['an unknown 1.5 KB command', [], 'X'.repeat(1536), /^500 5\.5\.2 /],
    // Past the daemon's 2 KB command limit the line is refused with 421 and the connection closed.
    ['EHLO with a 4 KB host name', [], `EHLO ${'h'.repeat(4096)}`, /^421 4\.4\.2 /],
    ['NOOP with a 4 KB argument', [], `NOOP ${'n'.repeat(4096)}`, /^421 4\.4\.2 /],
    ['MAIL FROM with a 20 KB address', [], `MAIL FROM:<${'a'.repeat(20_000)}@cliente.es>`, /^421 4\.4\.2 /],
  ];
  it.each(overlong)('answers %s (over 512 octets) with a 5xx, or past 2 KB with 421, then serves the session or closes it cleanly', async (_name, setup, line, expected) => {
    const session = await ready();
    for (const command of setup) expect(await session.command(command)).toMatch(/^250 /);
    expect(await session.command(line)).toMatch(expected);
    const next = await session.command('NOOP').catch((err: Error) => `closed: ${err.message}`);
    expect(next).toMatch(/^250 2\.0\.0 OK$|^closed: connection closed/);
  });

  const nulCommands: Array<[string, string[], string, RegExp]> = [
    ['EHLO', [], 'EHLO cli\0ent.test', /^501 /],
    ['MAIL FROM', ['EHLO abuse.test'], 'MAIL FROM:<ana\0@cliente.es>', /^501 5\.1\.7 /],
    ['RCPT TO', ['EHLO abuse.test', 'MAIL FROM:<ana@cliente.es>'], 'RCPT TO:<soporte\0@example.com>', /^501 5\.1\.3 /],
    ['a command line made of nothing else', ['EHLO abuse.test'], '\0\0\0\0', /^500 5\.5\.2 /],
  ];
  it.each(nulCommands)('refuses NUL bytes in %s with a 5xx and keeps serving the session', async (_name, setup, line, expected) => {
    const { session } = await open();
    for (const command of setup) expect(await session.command(command)).toMatch(/^250 /);
    expect(await session.command(line)).toMatch(expected);
    expect(await session.command('NOOP')).toBe('250 2.0.0 OK');
  });

  it('accepts a message with NUL bytes in a header and the body, stores it byte-exact and processes it', async () => {
    const raw = Buffer.from('From: ana@cliente.es\r\nTo: soporte@example.com\r\nSubject: con nul\0dentro\r\nMessage-ID: <nul-data@cliente.es>\r\n\r\nHola\0 mundo\r\n', 'latin1');
    const reply = await deliver(await ready(), 'ana@cliente.es', 'soporte@example.com', raw);
    expect(reply).toMatch(/^250 2\.6\.0 Message queued as \d+$/);
    const row = await waitForInbound(t, queuedId({ ok: true, code: 250, response: reply }));
    expect(row.state).toBe('processed');
    expect(row.sha256).toBe(sha256(raw));
  });

  it('answers junk pipelined between valid commands with 500 5.5.2 and still delivers the valid transaction', async () => {
    const { session } = await open();
    await session.write(['EHLO abuse.test', 'XYZZY', 'MAIL FROM:<ana@cliente.es>', 'GARBAGE \x01\x02\x7f', 'RCPT TO:<soporte@example.com>', 'DATA', ''].join('\r\n'));
    const replies: string[] = [];
    for (let i = 0; i < 6; i += 1) replies.push(await session.reply());
    expect(replies.map((r) => r.slice(0, 9))).toEqual(['250 SIZE ', '500 5.5.2', '250 2.1.0', '500 5.5.2', '250 2.1.5', '354 End d']);
    await session.write(`${rawMessage({ from: 'ana@cliente.es', subject: 'tras la basura' })}.\r\n`);
    expect(await session.reply()).toMatch(/^250 2\.6\.0 Message queued as \d+$/);
  });

  it('closes a session with 421 4.4.2 after ten unrecognized commands', async () => {
    const session = await ready();
    const replies: string[] = [];
    for (let i = 0; i < 10; i += 1) replies.push(await session.command(`JUNK${i}`));
    expect(replies.slice(0, 9).every((r) => r === '500 5.5.2 Error: command not recognized')).toBe(true);
    expect(replies[9]).toBe('421 4.4.2 Error: too many unrecognized commands');
    expect(await session.closedWithin(2_000)).toBe(true);
  });

  it('refuses an HTTP request sent to the SMTP port with 421 4.4.2', async () => {
    const { session } = await open();
    expect(await session.command('POST /api HTTP/1.1')).toBe('421 4.4.2 HTTP requests not allowed');
    expect(await session.closedWithin(2_000)).toBe(true);
  });

  it('refuses a client that talks before the greeting with 421', async () => {
    const socket = net.connect(t.smtpPort, '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (received += chunk));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.once('connect', () => socket.write('EHLO early.test\r\nMAIL FROM:<ana@cliente.es>\r\n'));
    await closed;
    expect(received).toBe('421 mailroom.test You talk too soon\r\n');
  });

  const relays: Array<[string, RegExp]> = [
    ['victim@elsewhere.example', /^550 5\.1\.1 <victim@elsewhere\.example>: no such mailbox here$/],
    ['soporte%elsewhere.example@example.com', /^550 5\.1\.1 /],
    ['soporte@example.com.elsewhere.example', /^550 5\.1\.1 /],
    ['soporte+t1000@elsewhere.example', /^550 5\.1\.1 /],
    ['bounces+d1-forged@elsewhere.example', /^550 5\.1\.1 /],
    ['soporte@example.com@elsewhere.example', /^501 5\.1\.3 /],
  ];
  it.each(relays)('never relays: RCPT TO:<%s> is refused, and the rest of the transaction goes to the mailbox only', async (address, expected) => {
    const session = await ready();
    expect(await session.command('MAIL FROM:<ana@cliente.es>')).toBe('250 2.1.0 Accepted');
    expect(await session.command(`RCPT TO:<${address}>`)).toMatch(expected);
    expect(await session.command('RCPT TO:<soporte@example.com>')).toBe('250 2.1.5 Accepted');
    expect(await session.command('DATA')).toMatch(/^354 /);
    await session.write(`${rawMessage({ from: 'ana@cliente.es', subject: 'intento de relay' })}.\r\n`);
    const reply = await session.reply();
    expect(reply).toMatch(/^250 2\.6\.0 Message queued as \d+$/);
    const row = await getInbound(t.db, queuedId({ ok: true, code: 250, response: reply }));
    expect(row!.rcptTo).toEqual(['soporte@example.com']);
  });

  const eightBit: Array<[string, Buffer, { subject: string; fromName: string } | null]> = [
    [
      'UTF-8',
      Buffer.from('From: José Núñez <jose@cliente.es>\r\nTo: soporte@example.com\r\nSubject: Envío fallido — ñandú 日本\r\nMessage-ID: <eight-utf8@cliente.es>\r\n\r\nHola\r\n', 'utf8'),
      { subject: 'Envío fallido — ñandú 日本', fromName: 'José Núñez' },
    ],
    // Undeclared Latin-1: how it reads is the parser's guess; what must hold is that it is kept.
    ['Latin-1', Buffer.from('From: Jos\xe9 <jose@cliente.es>\r\nTo: soporte@example.com\r\nSubject: Env\xedo fallido\r\nMessage-ID: <eight-latin1@cliente.es>\r\n\r\nHola\r\n', 'latin1'), null],
  ];
  it.each(eightBit)('accepts raw %s bytes in headers without SMTPUTF8, stores them byte-exact and processes the message', async (_name, raw, expected) => {
    const reply = await deliver(await ready(), 'jose@cliente.es', 'soporte@example.com', raw);
    expect(reply).toMatch(/^250 2\.6\.0 Message queued as \d+$/);
    const id = queuedId({ ok: true, code: 250, response: reply });
    const row = await waitForInbound(t, id);
    expect(row.state).toBe('processed');
    const [full] = await t.db.select().from(inboundMessages).where(eq(inboundMessages.id, id));
    expect((await loadInboundRaw(t.db, full!)).equals(raw)).toBe(true);
    if (expected) {
      const [article] = await t.db.select().from(articles).where(eq(articles.id, row.articleId!));
      expect({ subject: article!.subject, fromName: article!.fromName }).toEqual(expected);
    }
  });
});
