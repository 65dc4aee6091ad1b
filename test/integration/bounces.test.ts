import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBounces } from '../../db/bounces.js';
import { listTicketDeliveries } from '../../db/deliveries.js';
import { buildArf, buildDsn, type DsnRecipient } from '../helpers/dsn.js';
import { listSuppressions } from '../../db/bounces.js';
import { ticketDetail, ticketOfInbound, waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { startSmtpSink, type CaughtMail, type SmtpSink } from '../helpers/smtp-sink.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

const API_TOKEN = 'test-api-token-0123456789';
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
  t = await startTestApp({ rules: RULES, env: { MAILROOM_SMTP_RELAY: sink.url, MAILROOM_API_TOKEN: API_TOKEN } });
});
afterAll(async () => {
  await t?.close();
  await sink?.close();
});

/** A customer writes; returns the ticket and the acknowledgement mailroom sent. */
async function customerWrites(from: string, subject: string): Promise<{ ticketId: number; number: number; ack: CaughtMail }> {
  const result = await t.send({ from, to: ['soporte@example.com'] }, rawMessage({ from, subject }));
  const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(result)));
  const ack = await waitFor(() => sink.mails.find((m) => m.rcptTo.includes(from) && m.message.subject.includes(`[#${ticket.number}]`)), `the acknowledgement to ${from}`);
  await waitFor(async () => (await listTicketDeliveries(t.db, ticket.id))[0]?.state === 'sent', 'the acknowledgement to be recorded as sent');
  return { ticketId: ticket.id, number: ticket.number, ack };
}

/** Sends a report to an address (normally the envelope sender of our mail) and waits for it. */
async function bounce(to: string, raw: string) {
  const result = await t.send({ from: '', to: [to] }, raw);
  expect(result.code, result.response).toBe(250);
  return waitForInbound(t, queuedId(result));
}

/** A customer writes, and a DSN about them comes back to the acknowledgement's bounce address. */
async function acknowledgementBounces(from: string, subject: string, dsn: Omit<DsnRecipient, 'address'>) {
  const { ticketId, ack } = await customerWrites(from, subject);
  const row = await bounce(ack.envelopeFrom, buildDsn({ to: ack.envelopeFrom, originalMessageId: ack.message.messageId!, recipients: [{ address: from, ...dsn }] }));
  return { ticketId, row };
}

async function api(path: string, init: RequestInit = {}) {
  return fetch(`http://127.0.0.1:${t.httpPort}${path}`, { ...init, headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
}

describe('bounces of the mail mailroom sends', () => {
  it('records a recipient the relay refuses at RCPT with 550 5.1.1, on the ticket with tag and event', async () => {
    sink.rcptReplies.set('nouser@client.example', [550, 'No such user']);
    const result = await t.send({ from: 'nouser@client.example', to: ['soporte@example.com'] }, rawMessage({ from: 'nouser@client.example', subject: 'Hi' }));
    const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(result)));
    const detail = await waitFor(async () => {
      const d = await ticketDetail(t, ticket.id);
      return d.events.some((e) => e.type === 'delivery.failed') ? d : undefined;
    }, 'the failure to be recorded');
    expect(detail.ticket.tags).toContain('system_email_notification_failure');
    expect(detail.events.find((e) => e.type === 'delivery.failed')!.data.text).toBe('could not deliver to nouser@client.example (550 5.1.1 user unknown)');
    expect(detail.participants.find((p) => p.address === 'nouser@client.example')!.deliveryState).toBe('failed');
  });

  it('records a DSN at the bounce address against the right recipient, with tag, event and suppression', async () => {
    const { ticketId, row } = await acknowledgementBounces('ana@client.example', 'Need help', { action: 'failed', status: '5.1.1', diagnostic: '550 5.1.1 <ana@client.example>: Recipient address rejected: User unknown' });
    expect(row.state).toBe('processed');
    expect(row.stateReason).toBe('bounce:token');
    const detail = await ticketDetail(t, ticketId);
    expect(detail.ticket.tags).toContain('system_email_notification_failure');
    expect(detail.events.find((e) => e.type === 'delivery.failed')!.data.text).toBe('could not deliver to ana@client.example (550 5.1.1 user unknown)');
    const [delivery] = await listTicketDeliveries(t.db, ticketId);
    expect(delivery!.state).toBe('failed');
    expect(delivery!.recipients[0]).toMatchObject({ state: 'failed', smtpCode: 550, enhancedStatus: '5.1.1', reason: 'userunknown', hard: true, remoteMta: 'mx.client.example' });
    // The stored bounce says which evidence decided: here the specific RFC 3463 status.
    const listing = { text: '', out: (s: string) => void (listing.text += s), err: () => {}, isTTY: false };
    expect(await t.app.runCommand(['bounces', '--json'], listing)).toBe(0);
    const stored = (JSON.parse(listing.text) as { bounces: Array<{ inboundId: number; recipients: Array<Record<string, unknown>> }> }).bounces.find((b) => b.inboundId === row.id);
    expect(stored?.recipients[0]).toMatchObject({ recipient: 'ana@client.example', reason: 'userunknown', hard: true, decidedBy: 'status' });
    // An agent sees on the ticket which recipient failed and why.
    const io = { text: '', out: (s: string) => void (io.text += s), err: () => {}, isTTY: false };
    expect(await t.app.runCommand(['tickets', 'show', String(detail.ticket.number)], io)).toBe(0);
    expect(io.text).toMatch(/failed\s+ana@client\.example \(550 5\.1\.1 userunknown\): 550 5\.1\.1 <ana@client\.example>: Recipient address rejected: User unknown/);
    expect(io.text).toContain('could not deliver to ana@client.example (550 5.1.1 user unknown)');
    expect(io.text).toMatch(/tags system_email_notification_failure/);
    // The hard bounce stops the next auto-reply to that address.
    const again = await t.send({ from: 'ana@client.example', to: ['soporte@example.com'] }, rawMessage({ from: 'ana@client.example', subject: 'Another question' }));
    const second = await ticketOfInbound(t, await waitForInbound(t, queuedId(again)));
    const withheld = (await ticketDetail(t, second.id)).events.find((e) => e.type === 'auto_reply.withheld');
    expect(withheld?.data).toMatchObject({ reason: 'suppressed', to: 'ana@client.example' });
  });

  it('reports a partial failure when one of two recipients bounces', async () => {
    const { ticketId, number } = await customerWrites('bea@client.example', 'Two people');
    const response = await api(`/api/tickets/${number}/replies`, { method: 'POST', body: JSON.stringify({ body: 'Hello both', cc: ['colleague@client.example'] }) });
    expect(response.status).toBe(201);
    const { deliveryId } = (await response.json()) as { deliveryId: number };
    const reply = await waitFor(() => sink.mails.find((m) => m.rcptTo.includes('colleague@client.example')), 'the agent reply');
    const report = buildDsn({
      to: reply.envelopeFrom,
      originalMessageId: reply.message.messageId!,
      recipients: [{ address: 'colleague@client.example', action: 'failed', status: '5.2.2', diagnostic: '552 5.2.2 Mailbox full' }],
    });
    await bounce(reply.envelopeFrom, report);
    const detail = await ticketDetail(t, ticketId);
    const event = detail.events.filter((e) => e.type === 'delivery.failed').at(-1)!;
    expect(event.data.text).toMatch(/^could not deliver to some recipients \(colleague@client\.example \(552 5\.2\.2 mailbox full\)\)$/);
    const delivery = await waitFor(async () => {
      const d = (await listTicketDeliveries(t.db, ticketId)).find((x) => x.id === deliveryId);
      return d?.state === 'partial' ? d : undefined;
    }, 'the delivery to settle as partial');
    expect(delivery.recipients.find((r) => r.address === 'bea@client.example')!.state).toBe('sent');
  });

  it('records a delayed DSN as delayed, without the failure tag', async () => {
    const { ticketId } = await acknowledgementBounces('carl@client.example', 'Slow server', { action: 'delayed', status: '4.4.1', diagnostic: '421 4.4.1 Connection timed out' });
    const detail = await ticketDetail(t, ticketId);
    expect(detail.ticket.tags).not.toContain('system_email_notification_failure');
    expect(detail.events.find((e) => e.type === 'delivery.delayed')!.data.text).toContain('carl@client.example (421 4.4.1');
    const [delivery] = await listTicketDeliveries(t.db, ticketId);
    expect(delivery!.recipients[0]!.state).toBe('delayed');
  });

  it('records a DSN whose MTA gave up on an expired delivery as a failure, not as a delay', async () => {
    const { ticketId } = await acknowledgementBounces('dora@client.example', 'Dead server', { action: 'failed', status: '4.4.7', diagnostic: 'delivery time expired: connect to mx.client.example[192.0.2.9]:25: Connection timed out' });
    const detail = await ticketDetail(t, ticketId);
    expect(detail.ticket.tags).toContain('system_email_notification_failure');
    expect(detail.events.some((e) => e.type === 'delivery.delayed')).toBe(false);
    const [delivery] = await listTicketDeliveries(t.db, ticketId);
    // Failed, and soft: the address itself may be fine once its server is back.
    expect(delivery!.recipients[0]).toMatchObject({ state: 'failed', reason: 'expired', hard: false });
  });

  it('changes nothing for a bounce with a forged token, and keeps it as unmatched', async () => {
    const { ticketId, ack } = await customerWrites('dana@client.example', 'Forgery target');
    const forged = ack.envelopeFrom.replace(/-[a-z2-7]{10}@/, '-aaaaaaaaaa@');
    expect(forged).not.toBe(ack.envelopeFrom);
    const report = buildDsn({ to: forged, originalMessageId: ack.message.messageId!, recipients: [{ address: 'dana@client.example', action: 'failed', status: '5.1.1', diagnostic: '550 5.1.1 unknown' }] });
    const row = await bounce(forged, report);
    expect(row.stateReason).toBe('bounce:unmatched:invalid_token');
    const detail = await ticketDetail(t, ticketId);
    expect(detail.ticket.tags).not.toContain('system_email_notification_failure');
    const [delivery] = await listTicketDeliveries(t.db, ticketId);
    expect(delivery!.recipients[0]!.state).toBe('sent');
    const unmatched = await listBounces(t.db, { unmatched: true, limit: 10 });
    expect(unmatched.some((b) => b.inboundId === row.id && b.unmatchedReason === 'invalid_token')).toBe(true);
  });

  it('keeps a bounce about mail mailroom never sent as unmatched, changing nothing', async () => {
    const report = buildDsn({ to: 'soporte@example.com', originalMessageId: 'someone-else@elsewhere.example', recipients: [{ address: 'x@client.example', action: 'failed', status: '5.1.1', diagnostic: '550 5.1.1 unknown' }] });
    const row = await bounce('soporte@example.com', report);
    expect(row.stateReason).toBe('bounce:unmatched:unknown_delivery');
    expect(row.ticketId).toBeNull();
    const io = { text: '', out: (s: string) => void (io.text += s), err: () => {}, isTTY: false };
    expect(await t.app.runCommand(['bounces', '--unmatched', '--json'], io)).toBe(0);
    expect((JSON.parse(io.text) as { bounces: Array<{ inboundId: number }> }).bounces.map((b) => b.inboundId)).toContain(row.id);
  });

  it('exports failures as CSV that opens cleanly in a spreadsheet, and as JSON from the API', async () => {
    const io = { text: '', out: (s: string) => void (io.text += s), err: () => {}, isTTY: false };
    expect(await t.app.runCommand(['failures', '--format', 'csv', '--bom'], io)).toBe(0);
    expect(io.text.startsWith('\uFEFFat,ticket,deliveryId,messageId,recipient,kind,replyCode,enhancedStatus,reason,hardOrSoft,diagnostic,remoteMta,subject,requester,state\r\n')).toBe(true);
    const lines = io.text.slice(1).trimEnd().split('\r\n');
    const ana = lines.find((line) => line.includes('ana@client.example'))!;
    expect(ana).toMatch(/,acknowledgement,550,5\.1\.1,userunknown,hard,550 5\.1\.1 <ana@client\.example>: Recipient address rejected: User unknown,mx\.client\.example,[^,]*,ana@client\.example,failed$/);
    // To a pipe, no byte-order mark: the next program reads the header as written.
    const piped = { text: '', out: (s: string) => void (piped.text += s), err: () => {}, isTTY: false };
    expect(await t.app.runCommand(['failures', '--format', 'csv'], piped)).toBe(0);
    expect(piped.text.startsWith('at,ticket,')).toBe(true);
    const response = await api('/api/failures?reason=mailboxfull&format=json');
    expect(response.status).toBe(200);
    const json = (await response.json()) as { failures: Array<{ recipient: string; replyCode: number; hardOrSoft: string }> };
    expect(json.failures.map((f) => f.recipient)).toEqual(['colleague@client.example']);
    expect(json.failures[0]).toMatchObject({ replyCode: 552, hardOrSoft: 'soft' });
    const csv = await api('/api/failures?format=csv');
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect((await fetch(`http://127.0.0.1:${t.httpPort}/api/failures`)).status).toBe(401);
  });
});

describe('reports speak only for the recipient they came back for', () => {
  const suppressed = async () => (await listSuppressions(t.db)).map((s) => s.address);

  it("a complaint sent to one's own bounce address suppresses no one else (forged feedback report)", async () => {
    await customerWrites('victim1@client.example', 'Hello');
    const { ack } = await customerWrites('mallory@client.example', 'Hi');
    const row = await bounce(ack.envelopeFrom, buildArf({ to: ack.envelopeFrom, originalMessageId: ack.message.messageId!, complainers: ['victim1@client.example', 'ceo@client.example'] }));
    expect(row.state).toBe('processed');
    const list = await suppressed();
    expect(list).not.toContain('victim1@client.example');
    expect(list).not.toContain('ceo@client.example');
    // The complaint is taken for the one address its token names.
    expect(list).toContain('mallory@client.example');
  });

  it("a CC'd recipient cannot bounce the requester: each recipient's copy has its own token", async () => {
    const { ticketId, number } = await customerWrites('gina@client.example', 'Shared');
    const response = await api(`/api/tickets/${number}/replies`, { method: 'POST', body: JSON.stringify({ body: 'Hello both', cc: ['sam@client.example'] }) });
    const { deliveryId } = (await response.json()) as { deliveryId: number };
    const samCopy = await waitFor(() => sink.mails.find((m) => m.rcptTo.includes('sam@client.example')), "sam's copy");
    const ginaCopy = await waitFor(() => sink.mails.find((m) => m.rcptTo.includes('gina@client.example') && m.message.messageId === samCopy.message.messageId), "gina's copy");
    expect(samCopy.rcptTo).toEqual(['sam@client.example']);
    expect(samCopy.envelopeFrom).not.toBe(ginaCopy.envelopeFrom);
    // The message itself is one: the same headers for both.
    expect(samCopy.message.to.map((a) => a.address)).toEqual(['gina@client.example']);
    expect(samCopy.message.cc.map((a) => a.address)).toEqual(['sam@client.example']);
    await waitFor(async () => (await listTicketDeliveries(t.db, ticketId)).find((d) => d.id === deliveryId)?.state === 'sent', 'the reply to be sent');

    const naming = (to: string) => buildDsn({ to, originalMessageId: samCopy.message.messageId!, recipients: [{ address: 'gina@client.example', action: 'failed', status: '5.1.1', diagnostic: '550 5.1.1 unknown' }] });
    const ginaState = async () => (await listTicketDeliveries(t.db, ticketId)).find((d) => d.id === deliveryId)!.recipients.find((r) => r.address === 'gina@client.example')!.state;
    await bounce(samCopy.envelopeFrom, naming(samCopy.envelopeFrom));
    expect(await ginaState()).toBe('sent');
    expect(await suppressed()).not.toContain('gina@client.example');
    // A null-sender report to the mailbox quoting our Message-ID: recorded, but it suppresses no one.
    await bounce('soporte@example.com', naming('soporte@example.com'));
    expect(await suppressed()).not.toContain('gina@client.example');
    // A report to the mailbox from a sender that is not null matches nothing at all.
    const row = await t.send({ from: 'sam@client.example', to: ['soporte@example.com'] }, naming('soporte@example.com'));
    expect((await waitForInbound(t, queuedId(row))).stateReason).toBe('bounce:unmatched:not_from_null_sender');
  });
});

describe('suppressions', () => {
  it('lists the addresses hard bounces suppressed and lets an admin remove one', async () => {
    const run = async (argv: string[]) => {
      const io = { text: '', out: (s: string) => void (io.text += s), err: (s: string) => void (io.text += s), isTTY: false };
      return { code: await t.app.runCommand(argv, io), text: io.text };
    };
    const listed = await run(['suppressions', 'list', '--json']);
    const entries = (JSON.parse(listed.text) as { suppressions: Array<{ address: string; reason: string }> }).suppressions;
    expect(entries.find((e) => e.address === 'ana@client.example')?.reason).toBe('hard bounce: 550 5.1.1 userunknown');
    expect((await run(['suppressions', 'remove', 'Ana@Client.example'])).code).toBe(0);
    expect((await run(['suppressions', 'remove', 'ana@client.example'])).code).toBe(1);
    const after = JSON.parse((await run(['suppressions', 'list', '--json'])).text) as { suppressions: Array<{ address: string }> };
    expect(after.suppressions.map((e) => e.address)).not.toContain('ana@client.example');
  });
});

describe('agent replies', () => {
  it('threads in the customer client and sets the status from the rules', async () => {
    const first = await t.send({ from: 'eve@client.example', to: ['soporte@example.com'] }, rawMessage({ from: 'eve@client.example', subject: 'Question', messageId: 'eve.1@client.example' }));
    const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(first)));
    const response = await api(`/api/tickets/${ticket.number}/replies`, { method: 'POST', body: JSON.stringify({ body: 'Here is the answer.' }) });
    expect(response.status).toBe(201);
    const result = (await response.json()) as { status: string; messageId: string };
    expect(result.status).toBe('pending');
    const mail = await waitFor(() => sink.mails.find((m) => m.message.messageId === result.messageId), 'the agent reply');
    expect(mail.message.inReplyTo).toEqual(['eve.1@client.example']);
    expect(mail.message.references).toEqual(['eve.1@client.example']);
    expect(mail.message.subject).toBe(`Re: Question [#${ticket.number}]`);
    expect(mail.message.headers.has('auto-submitted')).toBe(false);
    expect(mail.message.text.trim()).toBe('Here is the answer.');
    expect((await ticketDetail(t, ticket.id)).ticket.status).toBe('pending');

    const bad = await api(`/api/tickets/${ticket.number}/replies`, { method: 'POST', body: JSON.stringify({ body: '', status: 'sleeping' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { problems: Array<{ path: string }> }).problems.map((p) => p.path).sort()).toEqual(['body', 'status']);
    expect((await api('/api/tickets/999999/replies', { method: 'POST', body: JSON.stringify({ body: 'x' }) })).status).toBe(404);
  });

  it('replies from the CLI too, with a cc and an explicit status', async () => {
    const first = await t.send({ from: 'fred@client.example', to: ['soporte@example.com'] }, rawMessage({ from: 'fred@client.example', subject: 'CLI reply' }));
    const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(first)));
    const io = { text: '', out: (s: string) => void (io.text += s), err: (s: string) => void (io.text += s), isTTY: false };
    const code = await t.app.runCommand(['tickets', 'reply', String(ticket.number), '--body', 'Solved, thanks.', '--cc', 'boss@client.example', '--status', 'solved', '--json'], io);
    expect(code, io.text).toBe(0);
    expect(JSON.parse(io.text)).toMatchObject({ ticket: ticket.number, status: 'solved', queued: true });
    const mail = await waitFor(() => sink.mails.find((m) => m.rcptTo.includes('boss@client.example')), 'the CLI reply');
    expect(mail.message.cc.map((a) => a.address)).toEqual(['boss@client.example']);
    expect(mail.message.to.map((a) => a.address)).toEqual(['fred@client.example']);
  });
});
