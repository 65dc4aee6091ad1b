import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { listTicketDeliveries } from '../../db/deliveries.js';
import { getInbound, insertInbound } from '../../db/inbound.js';
import { contacts } from '../../db/schema.js';
import { buildDsn } from '../helpers/dsn.js';
import { ticketDetail, ticketOfInbound, waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { startSmtpSink, type CaughtMail, type SmtpSink } from '../helpers/smtp-sink.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';
import { latin1Message } from '../helpers/latin1-message.js';

const RULES = `mailboxes:
  - address: soporte@example.com
    name: Soporte
    language: en
templates:
  en:
    acknowledgement: { subject: "Received: {{subject}}", body: "Ticket {{ticket_number}}." }
    missing_details: { subject: "Details: {{subject}}", body: "{{#missing}}- {{label}}\\n{{/missing}}" }
    acknowledgement_missing_details: { subject: "Received: {{subject}}", body: "{{#missing}}- {{label}}\\n{{/missing}}" }
    sensitive_warning: { subject: "Careful", body: "Never send {{#sensitive}}{{label}}{{/sensitive}}." }
`;

let sink: SmtpSink;
let t: TestApp;
beforeAll(async () => {
  sink = await startSmtpSink();
  t = await startTestApp({ rules: RULES, env: { MAILROOM_SMTP_RELAY: sink.url } });
});
afterAll(async () => {
  await t?.close();
  await sink?.close();
});

async function cli(...argv: string[]) {
  const io = {
    text: '',
    errors: '',
    bytes: [] as Buffer[],
    out: (s: string) => void (io.text += s),
    outBytes: (b: Buffer) => void io.bytes.push(b),
    err: (s: string) => void (io.errors += s),
    isTTY: false,
  };
  const code = await t.app.runCommand(argv, io);
  return { code, text: io.text, errors: io.errors, bytes: Buffer.concat(io.bytes) };
}

async function deliver(from: string, raw: string | Buffer) {
  const sent = await t.send({ from, to: ['soporte@example.com'] }, raw);
  expect(sent.code, sent.response).toBe(250);
  return waitForInbound(t, queuedId(sent));
}

/** A customer writes; returns the ticket and the acknowledgement mailroom sent. */
async function customerWrites(from: string, subject: string): Promise<{ ticketId: number; number: number; ack: CaughtMail }> {
  const ticket = await ticketOfInbound(t, await deliver(from, rawMessage({ from, subject })));
  const ack = await waitFor(() => sink.mails.find((m) => m.rcptTo.includes(from) && m.message.subject.includes(`[#${ticket.number}]`)), `the acknowledgement to ${from}`);
  await waitFor(async () => (await listTicketDeliveries(t.db, ticket.id))[0]?.state === 'sent', 'the acknowledgement to be recorded as sent');
  return { ticketId: ticket.id, number: ticket.number, ack };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('inbound replay of a bounce', () => {
  it('records a report once however often it is replayed: one failure, one event, the same time, one soft bounce', async () => {
    const { ticketId, number, ack } = await customerWrites('rita@client.example', 'Mailbox trouble');
    const report = buildDsn({ to: ack.envelopeFrom, originalMessageId: ack.message.messageId!, recipients: [{ address: 'rita@client.example', action: 'failed', status: '5.2.2', diagnostic: '552 5.2.2 Mailbox full' }] });
    const sent = await t.send({ from: '', to: [ack.envelopeFrom] }, report);
    const row = await waitForInbound(t, queuedId(sent));
    expect(row.stateReason).toBe('bounce:token');

    const recorded = async () => {
      const failures = await cli('failures', '--ticket', String(number), '--format', 'json');
      const [contact] = await t.db.select({ softBounces: contacts.softBounces }).from(contacts).where(eq(contacts.address, 'rita@client.example'));
      return {
        failures: (JSON.parse(failures.text) as { failures: Array<{ at: string; recipient: string; reason: string }> }).failures,
        events: (await ticketDetail(t, ticketId)).events.filter((e) => e.type === 'delivery.failed').length,
        softBounces: contact?.softBounces,
      };
    };
    const before = await recorded();
    expect(before.failures).toMatchObject([{ recipient: 'rita@client.example', reason: 'mailboxfull' }]);
    expect(before).toMatchObject({ events: 1, softBounces: 1 });

    for (const _ of [1, 2]) {
      const replay = await cli('inbound', 'replay', String(row.id), '--wait', '--json');
      expect(replay.code, replay.errors).toBe(0);
      expect(JSON.parse(replay.text)).toEqual({
        replayed: [row.id],
        queued: true,
        notReplayed: [],
        outcomes: [{ id: row.id, state: 'processed', reason: 'bounce:token', error: null, ticketId, ticketNumber: number, finished: true }],
      });
    }
    expect(await recorded()).toEqual(before);
    expect(await getInbound(t.db, row.id)).toMatchObject({ state: 'processed', stateReason: 'bounce:token', ticketId, attempts: 1 });
  });
});

describe('inbound replay of ids it cannot replay', () => {
  it('replays the rows it can and exits 1 naming ids that do not exist and rows in a state that cannot be replayed', async () => {
    const customer = await deliver('lola@client.example', rawMessage({ from: 'lola@client.example', subject: 'Hola' }));
    const spam = await deliver('promo@spam.example', rawMessage({ from: 'promo@spam.example', subject: 'You won', headers: { 'X-Spam-Flag': 'YES' } }));
    expect(spam.state).toBe('suspended');
    const missing = 999_999;

    const mixed = await cli('inbound', 'replay', String(missing), String(spam.id), String(customer.id), '--wait', '--json');
    expect(mixed.code).toBe(1);
    expect(JSON.parse(mixed.text)).toMatchObject({
      replayed: [customer.id],
      notReplayed: [
        { id: spam.id, state: 'suspended' },
        { id: missing, state: null },
      ],
      outcomes: [{ id: customer.id, state: 'processed', ticketId: customer.ticketId, finished: true }],
    });
    expect(mixed.errors).toBe(
      `mailroom: spool row ${spam.id} is suspended: release it with \`mailroom suspended release ${spam.id}\` (or delete it with \`mailroom suspended delete ${spam.id}\`); no spool row ${missing}\n`,
    );

    const alone = await cli('inbound', 'replay', String(missing));
    expect(alone).toMatchObject({ code: 1, text: '', errors: `mailroom: no spool row ${missing}\n` });
    const suspended = await cli('inbound', 'replay', String(spam.id));
    expect(suspended.code).toBe(1);
    expect(suspended.errors).toContain(`mailroom suspended release ${spam.id}`);
    expect((await getInbound(t.db, spam.id))?.state).toBe('suspended');
  });

  it('refuses a replay with neither ids nor --failed, and --timeout without --wait, as usage errors', async () => {
    const none = await cli('inbound', 'replay');
    expect(none).toMatchObject({ code: 2, text: '', errors: 'mailroom: give spool ids or --failed (not both)\n' });
    expect((await cli('inbound', 'replay', '--failed', '1')).code).toBe(2);
    expect((await cli('inbound', 'replay', '--failed', '--timeout', '5')).code).toBe(2);
  });
});

describe('inbound show and raw', () => {
  it("shows a row with its message's headers and writes its ISO-8859-1 bytes exactly as stored", async () => {
    const raw = latin1Message({ messageId: 'latin1.show@cliente.es', bodyLines: 3 });
    const row = await deliver('jose@cliente.es', raw);
    const shown = await cli('inbound', 'show', String(row.id), '--json');
    expect(shown.code, shown.errors).toBe(0);
    const ticket = await ticketOfInbound(t, row);
    expect(JSON.parse(shown.text)).toMatchObject({
      id: row.id,
      state: 'processed',
      reason: null,
      error: null,
      attempts: 1,
      mailFrom: 'jose@cliente.es',
      rcptTo: ['soporte@example.com'],
      sizeBytes: raw.length,
      sha256: sha256(raw),
      ticketId: ticket.id,
      ticketNumber: ticket.number,
      articleId: row.articleId,
      releasedAt: null,
      from: 'jose@cliente.es',
      fromName: 'José Muñoz',
      to: ['soporte@example.com'],
      subject: 'Señal débil en el salón',
      date: '2026-11-21T10:00:00.000Z',
      messageId: 'latin1.show@cliente.es',
      parseError: null,
    });
    const human = await cli('inbound', 'show', String(row.id));
    expect(human.text).toContain(`spool row ${row.id}: processed, 1 attempt(s)`);
    expect(human.text).toContain(`ticket:     #${ticket.number}, article ${row.articleId}`);
    expect(human.text).toContain('subject:    Señal débil en el salón');

    const written = await cli('inbound', 'raw', String(row.id));
    expect(written.code, written.errors).toBe(0);
    expect(written.text).toBe('');
    expect(sha256(written.bytes)).toBe(row.sha256);
    expect(written.bytes.equals(raw)).toBe(true);

    expect(await cli('inbound', 'raw', '999999')).toMatchObject({ code: 1, errors: 'mailroom: no spool row 999999\n' });
    expect((await cli('inbound', 'show', '999999')).code).toBe(1);
  });

  it('shows why a row cannot be parsed, and replay --wait reports that it failed again with exit 1', async () => {
    // Past mailparser's header limit: stored as a relay in front of mailroom, or an older mailroom, let it in.
    const raw = Buffer.from(`From: Raro <raro@cliente.es>\r\nSubject: Factura\r\nX-Huge: ${'a'.repeat(2_000_000)}\r\n\r\nNo puedo pagar.\r\n`);
    const envelope = { mailFrom: 'raro@cliente.es', rcptTo: ['soporte@example.com'], clientAddress: '127.0.0.1', clientHelo: 'x', tls: false, receivedAt: new Date() };
    const id = await insertInbound(t.db, envelope, raw, sha256(raw));

    const replay = await cli('inbound', 'replay', String(id), '--wait', '--timeout', '30');
    expect(replay.code).toBe(1);
    const row = (await getInbound(t.db, id))!;
    expect(row.state).toBe('failed');
    expect(replay.text).toMatch(new RegExp(`^1 row\\(s\\) set to received: ${id}\\nqueued for processing\\nID\\s+STATE\\s+TICKET\\s+NOTE\\n${id}\\s+failed\\s+#\\d+\\s+PARSE_FAILED: `));
    expect(replay.errors).toBe(`mailroom: spool row ${id} ended failed: ${row.lastError}\n`);

    const shown = JSON.parse((await cli('inbound', 'show', String(id), '--json')).text) as Record<string, unknown>;
    expect(shown).toMatchObject({ state: 'failed', error: expect.stringMatching(/^PARSE_FAILED: /), from: null, subject: null, parseError: expect.any(String) });
    expect((await cli('inbound', 'show', String(id))).text).toContain(`\n\nunreadable: ${shown.parseError as string}\n`);
  });
});
