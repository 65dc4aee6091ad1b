import net from 'node:net';
import { eq } from 'drizzle-orm';
import { inboundMessages } from '../../db/schema.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SmtpSession } from '../helpers/load-client.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

/*
 * One client must not be able to deny SMTP to everyone: it gets a share of the connections, a
 * session time limit, and a message that trickles in is cut off. The attacker connects from
 * 127.0.0.2 and 127.0.0.3; 127.0.0.1 stands for everyone else (and is not limited here either).
 */
const PER_ADDRESS = 3;
let t: TestApp;
const sessions: SmtpSession[] = [];
beforeAll(async () => {
  t = await startTestApp({
    env: {
      MAILROOM_SMTP_MAX_CONNECTIONS_PER_IP: String(PER_ADDRESS),
      MAILROOM_SMTP_CONNECTIONS_PER_MINUTE_PER_IP: '8',
      // Room for a loaded machine: the trickle test's setup must not reach the session limit first.
      MAILROOM_SMTP_MAX_SESSION_MS: '5000',
      MAILROOM_SMTP_MIN_DATA_RATE: '1024',
      MAILROOM_SMTP_DATA_GRACE_MS: '1000',
      MAILROOM_SMTP_IDLE_TIMEOUT_MS: '20000',
      MAILROOM_LOG_LEVEL: 'info',
    },
  });
});
afterEach(() => {
  for (const session of sessions.splice(0)) session.close();
});
afterAll(async () => {
  await t?.close();
});

async function open(from: string): Promise<{ session: SmtpSession; greeting: string }> {
  const session = await SmtpSession.open('127.0.0.1', t.smtpPort, 10_000, Number.POSITIVE_INFINITY, from);
  sessions.push(session);
  return { session, greeting: await session.reply() };
}

async function othersStillGetIn(): Promise<void> {
  const result = await t.send({ from: 'ana@cliente.es', to: ['soporte@example.com'] }, rawMessage({ from: 'ana@cliente.es', subject: 'mientras tanto' }));
  expect(result.response).toMatch(/^250 2\.6\.0 /);
}

describe('per-client SMTP limits', () => {
  it('gives one address a few connections at once, answering the rest 421, and others still get in', async () => {
    const held = [];
    for (let i = 0; i < PER_ADDRESS; i += 1) held.push(await open('127.0.0.2'));
    expect(held.every((h) => h.greeting.startsWith('220 '))).toBe(true);
    const refused = await open('127.0.0.2');
    expect(refused.greeting).toMatch(/^421 4\.7\.0 too many connections from your address at once/);
    expect(await refused.session.closedWithin(2000)).toBe(true);
    await othersStillGetIn();
    // A slot freed by its own client is usable again.
    held[0]!.session.close();
    await waitFor(async () => {
      const again = await open('127.0.0.2');
      return again.greeting.startsWith('220 ') ? again : undefined;
    }, 'a freed slot to be given again', 5000);
  });

  it('limits how many connections one address opens in a minute', async () => {
    const greetings = [];
    for (let i = 0; i < 10; i += 1) {
      const { session, greeting } = await open('127.0.0.3');
      greetings.push(greeting.slice(0, 3));
      session.close();
      await session.closedWithin(1000);
    }
    expect(greetings.slice(0, 8).every((code) => code === '220')).toBe(true);
    expect(greetings.slice(8)).toEqual(['421', '421']);
  });

  it('ends a session that keeps itself busy past the session time limit', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: t.smtpPort, localAddress: '127.0.0.4' });
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    const started = Date.now();
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await waitFor(() => received.startsWith('220 '), 'the greeting');
    socket.write('EHLO busy.test\r\n');
    const noop = setInterval(() => socket.writable && socket.write('NOOP\r\n'), 200);
    await closed;
    clearInterval(noop);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4900);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(received).toMatch(/\r\n421 4\.4\.2 session time limit reached, closing connection\r\n/);
  });

  it('cuts off a message that trickles in, stores nothing of it, and keeps serving others', async () => {
    const { session } = await open('127.0.0.5');
    expect(await session.command('EHLO slow.test')).toMatch(/^250 /);
    expect(await session.command('MAIL FROM:<slow@cliente.es>')).toMatch(/^250 /);
    expect(await session.command('RCPT TO:<soporte@example.com>')).toMatch(/^250 /);
    expect(await session.command('DATA')).toMatch(/^354 /);
    const started = Date.now();
    let reply = '';
    const replied = session.reply().then(
      (line) => (reply = line),
      () => (reply = 'closed'),
    );
    for (let i = 0; i < 40 && !reply; i += 1) {
      await session.write(Buffer.from('x')).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await replied;
    expect(reply).toMatch(/^421 4\.4\.2 message arriving too slowly/);
    expect(Date.now() - started).toBeLessThan(4000);
    await othersStillGetIn();
    const stored = await t.db.select({ id: inboundMessages.id }).from(inboundMessages).where(eq(inboundMessages.mailFrom, 'slow@cliente.es'));
    expect(stored).toHaveLength(0);
  });
});
