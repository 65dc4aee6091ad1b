import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getInbound, loadInboundRaw } from '../../db/inbound.js';
import { inboundMessages } from '../../db/schema.js';
import { queuedId, RawSmtp } from '../helpers/smtp-client.js';
import { waitForInbound } from '../helpers/queries.js';
import { waitFor } from '../helpers/wait.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';

const LIMIT = 1024 * 1024;
const DEBUG = 20;
const INFO = 30;
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { MAILROOM_MAX_MESSAGE_BYTES: String(LIMIT) } });
});
afterAll(async () => {
  await t?.close();
});

async function spoolCount(): Promise<number> {
  return (await t.db.select({ id: inboundMessages.id }).from(inboundMessages)).length;
}

describe('SMTP intake', () => {
  it('advertises SIZE, 8BITMIME, SMTPUTF8, PIPELINING and ENHANCEDSTATUSCODES, and no AUTH or STARTTLS without a certificate', async () => {
    const { client, greeting } = await RawSmtp.connect(t.smtpPort);
    try {
      expect(greeting).toMatch(/^220 mailroom\.test /);
      const ehlo = await client.command('EHLO client.test');
      const features = ehlo.split('\n').slice(1).map((line) => line.slice(4));
      expect(features).toEqual(expect.arrayContaining([`SIZE ${LIMIT}`, '8BITMIME', 'SMTPUTF8', 'PIPELINING', 'ENHANCEDSTATUSCODES']));
      expect(features.some((f) => f.startsWith('AUTH') || f === 'STARTTLS')).toBe(false);
    } finally {
      client.close();
    }
  });

  it('answers 250 with the spool id only once raw bytes and envelope are stored', async () => {
    const raw = rawMessage({ from: 'ana@cliente.es', subject: 'Hola', body: 'Ñandú con acentos' });
    const result = await t.send({ from: 'ana@cliente.es', to: ['soporte@example.com'] }, raw);
    expect(result.response).toMatch(/^250 2\.6\.0 Message queued as \d+$/);
    const row = (await getInbound(t.db, queuedId(result)))!;
    expect(row.mailFrom).toBe('ana@cliente.es');
    expect(row.rcptTo).toEqual(['soporte@example.com']);
    expect(row.clientAddress).toBe('127.0.0.1');
    expect(row.clientHelo).toBe('client.test');
    expect(row.tls).toBe(false);
    expect(row.sizeBytes).toBe(Buffer.byteLength(raw));
    const { inboundMessages: table } = await import('../../db/schema.js');
    const { eq } = await import('drizzle-orm');
    const [full] = await t.db.select().from(table).where(eq(table.id, row.id));
    expect((await loadInboundRaw(t.db, full!)).toString('utf8')).toBe(raw);
  });

  it('refuses an unknown mailbox with 550 5.1.1 and never relays', async () => {
    const { client } = await RawSmtp.connect(t.smtpPort);
    try {
      await client.command('EHLO client.test');
      expect(await client.command('MAIL FROM:<ana@cliente.es>')).toMatch(/^250/);
      expect(await client.command('RCPT TO:<nadie@example.com>')).toBe('550 5.1.1 <nadie@example.com>: no such mailbox here');
      expect(await client.command('RCPT TO:<victim@gmail.com>')).toMatch(/^550 5\.1\.1 /);
      expect(await client.command('RCPT TO:<bounces@example.com>')).toMatch(/^550 5\.1\.1 /);
      expect(await client.command('RCPT TO:<Soporte@Example.COM>')).toMatch(/^250/);
      expect(await client.command('RCPT TO:<soporte+billing@example.com>')).toMatch(/^250/);
      expect(await client.command('RCPT TO:<bounces+d1-abcdefghij@example.com>')).toMatch(/^250/);
    } finally {
      client.close();
    }
  });

  it('answers 452 4.5.3 past 100 recipients', async () => {
    const { client } = await RawSmtp.connect(t.smtpPort);
    try {
      await client.command('EHLO client.test');
      await client.command('MAIL FROM:<ana@cliente.es>');
      for (let i = 0; i < 100; i += 1) {
        expect(await client.command(`RCPT TO:<soporte+${i}@example.com>`)).toMatch(/^250/);
      }
      expect(await client.command('RCPT TO:<soporte+100@example.com>')).toMatch(/^452 4\.5\.3 /);
    } finally {
      client.close();
    }
  });

  it('reads an oversized DATA to the end, then answers 552 5.3.4 and stores nothing', async () => {
    const before = await spoolCount();
    const { client } = await RawSmtp.connect(t.smtpPort);
    try {
      await client.command('EHLO client.test');
      await client.command('MAIL FROM:<ana@cliente.es>');
      await client.command('RCPT TO:<soporte@example.com>');
      const line = `${'x'.repeat(76)}\r\n`;
      const body = `Subject: big\r\n\r\n${line.repeat(Math.ceil((LIMIT * 2) / line.length))}`;
      expect(await client.data(body)).toMatch(/^552 5\.3\.4 /);
      // The session stays usable: the next transaction goes through.
      await client.command('MAIL FROM:<ana@cliente.es>');
      await client.command('RCPT TO:<soporte@example.com>');
      expect(await client.data('Subject: small\r\n\r\nok\r\n')).toMatch(/^250 2\.6\.0 Message queued as \d+$/);
    } finally {
      client.close();
    }
    expect(await spoolCount()).toBe(before + 1);
  });

  it('stores a message larger than one chunk in parts and processes it whole', async () => {
    const text = `${'Línea de texto con acentos áéíóú.\r\n'.repeat(15000)}fin`;
    const raw = rawMessage({ from: 'big@cliente.es', subject: 'Mensaje grande', body: text });
    expect(Buffer.byteLength(raw)).toBeGreaterThan(512 * 1024);
    const result = await t.send({ from: 'big@cliente.es', to: ['soporte@example.com'] }, raw);
    expect(result.code).toBe(250);
    const row = await waitForInbound(t, queuedId(result));
    expect(row.state).toBe('processed');
    expect(row.chunkCount).toBeGreaterThan(1);
    expect(row.sizeBytes).toBe(Buffer.byteLength(raw));
    const { articles } = await import('../../db/schema.js');
    const { eq } = await import('drizzle-orm');
    const [article] = await t.db.select().from(articles).where(eq(articles.id, row.articleId!));
    expect(article!.textBody.trimEnd().endsWith('áéíóú.\nfin')).toBe(true);
  });

  it('accepts 8-bit headers and the null sender', async () => {
    const { client } = await RawSmtp.connect(t.smtpPort);
    try {
      await client.command('EHLO client.test');
      expect(await client.command('MAIL FROM:<> BODY=8BITMIME')).toMatch(/^250/);
      await client.command('RCPT TO:<soporte@example.com>');
      const reply = await client.data(Buffer.from('From: José <jose@cliente.es>\r\nSubject: Canción ñ\r\n\r\nHola\r\n', 'utf8'));
      expect(reply).toMatch(/^250 /);
      const row = await waitForInbound(t, Number(/queued as (\d+)/.exec(reply)![1]));
      // Null sender: automatic mail that threads nowhere opens no ticket.
      expect(row.mailFrom).toBe('');
      expect(row.state).toBe('ignored');
      expect(row.stateReason).toBe('auto_generated:null_sender');
    } finally {
      client.close();
    }
  });

  it('logs message.queued at debug with the spool id and byte count, and counts it in the next intake summary at info', async () => {
    const raw = rawMessage({ from: 'log@cliente.es', subject: 'log' });
    const reported = (): number => t.logs.events('intake.summary').reduce((sum, l) => sum + (l.messages as number), 0);
    // The earlier tests' messages first leave their interval, so the next one begins with this message.
    await waitFor(() => reported() === t.logs.events('message.queued').length, 'the earlier messages in a summary');
    const summariesBefore = t.logs.events('intake.summary').length;
    const result = await t.send({ from: 'log@cliente.es', to: ['soporte@example.com'] }, raw);
    const id = queuedId(result);
    const line = t.logs.events('message.queued').find((l) => l.inboundId === id);
    expect(line).toMatchObject({ level: DEBUG, inboundId: id, rcpts: 1, bytes: Buffer.byteLength(raw) });
    expect(typeof line!.sessionId).toBe('string');
    const summary = await waitFor(() => t.logs.events('intake.summary')[summariesBefore], 'an intake.summary line');
    expect(summary).toMatchObject({ level: INFO, messages: 1, bytes: Buffer.byteLength(raw) });
    expect(reported()).toBe(t.logs.events('message.queued').length);
    await waitForInbound(t, id);
    expect(t.logs.events('message.processed').find((l) => l.inboundId === id)).toMatchObject({ inboundId: id, created: true });
  });
});
