import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listSuppressions } from '../../db/bounces.js';
import { listTicketDeliveries } from '../../db/deliveries.js';
import { findRequester, findTicketById } from '../../db/tickets.js';
import { ticketDetail, ticketOfInbound, waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

/*
 * Seeds 001 and 003 end with "fix the address and send again": an agent resends a failed mail to
 * the corrected address, or corrects the contact itself, and the ticket keeps the whole story.
 */
const TOKEN = 'resend-test-token-0123456789';
let sink: SmtpSink;
let t: TestApp;
beforeAll(async () => {
  sink = await startSmtpSink();
  t = await startTestApp({
    rules: `mailboxes:
  - address: desk@example.com
    name: Desk
    language: en
templates:
  en:
    acknowledgement: { subject: "Received: {{subject}}", body: "Ticket {{ticket_number}}." }
    missing_details: { subject: "Details: {{subject}}", body: "x" }
    acknowledgement_missing_details: { subject: "Received: {{subject}}", body: "x" }
    sensitive_warning: { subject: "Careful", body: "x" }
`,
    env: { MAILROOM_SMTP_RELAY: sink.url, MAILROOM_API_TOKEN: TOKEN },
  });
});
afterAll(async () => {
  await t?.close();
  await sink?.close();
});

async function cli(...argv: string[]) {
  const io = { text: '', errors: '', out: (s: string) => void (io.text += s), err: (s: string) => void (io.errors += s), isTTY: false };
  const code = await t.app.runCommand(argv, io);
  return { code, text: io.text, errors: io.errors };
}

/** A customer whose address the relay refuses: the acknowledgement fails, the address is suppressed. */
async function failedAcknowledgement(address: string, subject: string) {
  sink.rcptReplies.set(address, [550, '5.1.1 <' + address + '>: Recipient address rejected: User unknown']);
  const sent = await t.send({ from: address, to: ['desk@example.com'] }, rawMessage({ from: address, to: 'desk@example.com', subject }));
  const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(sent)));
  const delivery = await waitFor(async () => {
    const [d] = await listTicketDeliveries(t.db, ticket.id);
    return d?.state === 'failed' ? d : undefined;
  }, 'the acknowledgement to fail');
  return { ticket, delivery };
}

describe('resending a failed delivery', () => {
  it('sends it to a corrected address on the same ticket, threaded, with who asked and why', async () => {
    const { ticket, delivery } = await failedAcknowledgement('ana@clinet.example', 'Invoice missing');
    expect((await listSuppressions(t.db)).map((s) => s.address)).toContain('ana@clinet.example');

    const refused = await cli('deliveries', 'resend', String(delivery.id));
    expect(refused.code).toBe(1);
    expect(refused.errors).toContain('ana@clinet.example is suppressed (hard bounce: 550 5.1.1 userunknown); resend with --unsuppress to lift it');

    const resent = await cli('deliveries', 'resend', String(delivery.id), '--to', 'Ana@Client.example', '--reason', 'typo in the domain', '--by', 'maria', '--json');
    expect(resent.code, resent.errors).toBe(0);
    const result = JSON.parse(resent.text) as { deliveryId: number; ticketNumber: number; to: string[]; unsuppressed: string[]; queued: boolean };
    expect(result).toMatchObject({ ticketNumber: ticket.number, to: ['ana@client.example'], unsuppressed: [], queued: true });
    const [mail] = await waitFor(() => {
      const found = sink.mails.filter((m) => m.rcptTo.includes('ana@client.example'));
      return found.length ? found : undefined;
    }, 'the resent mail');
    const original = (await listTicketDeliveries(t.db, ticket.id)).find((d) => d.id === delivery.id)!;
    expect(mail!.message.subject).toBe(original.subject);
    expect(mail!.message.messageId).not.toBe(original.messageId);
    expect(mail!.message.inReplyTo).toEqual(original.inReplyTo ? [original.inReplyTo] : []);
    expect(mail!.envelopeFrom).toMatch(/^bounces\+/);

    const detail = await ticketDetail(t, ticket.id);
    expect(detail.events.find((e) => e.type === 'delivery.resent')?.data).toMatchObject({ of: delivery.id, deliveryId: result.deliveryId, to: ['ana@client.example'], by: 'maria', reason: 'typo in the domain' });
    expect(detail.participants.map((p) => p.address)).toContain('ana@client.example');
    await waitFor(async () => ((await listTicketDeliveries(t.db, ticket.id)).find((d) => d.id === result.deliveryId)?.state === 'sent' ? true : undefined), 'the new delivery to be sent');
  });

  it('lifts a suppression only when asked, and says so on the ticket', async () => {
    const { ticket, delivery } = await failedAcknowledgement('pedro@client.example', 'Password reset');
    sink.rcptReplies.delete('pedro@client.example'); // the mailbox exists again
    const result = await cli('deliveries', 'resend', String(delivery.id), '--unsuppress', '--json');
    expect(result.code, result.errors).toBe(0);
    expect(JSON.parse(result.text)).toMatchObject({ to: ['pedro@client.example'], unsuppressed: ['pedro@client.example'] });
    expect((await listSuppressions(t.db)).map((s) => s.address)).not.toContain('pedro@client.example');
    await waitFor(() => sink.mails.find((m) => m.rcptTo.includes('pedro@client.example')), 'the resent mail');
    expect((await ticketDetail(t, ticket.id)).events.find((e) => e.type === 'contact.unsuppressed')?.data).toMatchObject({ address: 'pedro@client.example', by: 'cli' });
  });

  it.each([
    ['not an address', 'not an address (local@domain)'],
    ['ana@localhost', '"localhost" is not a domain name'],
    ['"ana smith"@client.example', 'is not a valid local part'],
    ['desk@example.com', "one of mailroom's own addresses"],
  ])('refuses %s with a reason, sending nothing', async (to, reason) => {
    const { delivery } = await failedAcknowledgement(`r${Math.random().toString(36).slice(2, 8)}@client.example`, 'x');
    const before = sink.mails.length;
    const refused = await cli('deliveries', 'resend', String(delivery.id), '--to', to);
    expect(refused.code).toBe(1);
    expect(refused.errors).toContain(reason);
    expect(sink.mails).toHaveLength(before);
  });

  it('answers the same over the API: 201, 422 with the reason, 404', async () => {
    const { delivery } = await failedAcknowledgement('luis@clent.example', 'API');
    const post = (id: number, body: unknown, token = TOKEN) =>
      fetch(`http://127.0.0.1:${t.httpPort}/api/deliveries/${id}/resend`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const suppressed = await post(delivery.id, {});
    expect(suppressed.status).toBe(422);
    expect(((await suppressed.json()) as { error: string }).error).toContain('is suppressed');
    const ok = await post(delivery.id, { to: 'luis@client.example', reason: 'customer called' });
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({ ticket: expect.any(Number), to: ['luis@client.example'], unsuppressed: [] });
    expect((await post(999_999, {})).status).toBe(404);
    expect((await post(delivery.id, { to: 12 })).status).toBe(400);
    expect((await post(delivery.id, {}, 'wrong-token-wrong-token')).status).toBe(401);
  });
});

describe('correcting a contact', () => {
  it('renames an address, keeping its tickets and history, with an event on each ticket', async () => {
    const { ticket } = await failedAcknowledgement('rosa@clinet.example', 'Renamed');
    const renamed = await cli('contacts', 'rename', 'rosa@clinet.example', 'rosa@client.example', '--by', 'maria', '--json');
    expect(renamed.code, renamed.errors).toBe(0);
    expect(JSON.parse(renamed.text)).toEqual({ from: 'rosa@clinet.example', to: 'rosa@client.example', tickets: 1, merged: false, suppressionCleared: true });
    const after = (await findTicketById(t.db, ticket.id))!;
    expect(await findRequester(t.db, after)).toMatchObject({ address: 'rosa@client.example' });
    const detail = await ticketDetail(t, ticket.id);
    expect(detail.articles.length).toBeGreaterThanOrEqual(2);
    expect(detail.events.find((e) => e.type === 'contact.renamed')?.data).toMatchObject({ from: 'rosa@clinet.example', to: 'rosa@client.example', by: 'maria' });
    expect((await listSuppressions(t.db)).map((s) => s.address)).not.toContain('rosa@client.example');

    const unknown = await cli('contacts', 'rename', 'nobody@client.example', 'somebody@client.example');
    expect(unknown.code).toBe(1);
    expect(unknown.errors).toContain('no contact nobody@client.example');
    const bad = await cli('contacts', 'rename', 'rosa@client.example', 'rosa at client');
    expect(bad.code).toBe(2);
  });

  it('merges into the contact the new address already has', async () => {
    const first = await failedAcknowledgement('juan@typo.example', 'One');
    sink.rcptReplies.delete('juan@client.example');
    const sent = await t.send({ from: 'juan@client.example', to: ['desk@example.com'] }, rawMessage({ from: 'juan@client.example', to: 'desk@example.com', subject: 'Two' }));
    const second = await ticketOfInbound(t, await waitForInbound(t, queuedId(sent)));
    const merged = await cli('contacts', 'rename', 'juan@typo.example', 'juan@client.example', '--json');
    expect(merged.code, merged.errors).toBe(0);
    expect(JSON.parse(merged.text)).toMatchObject({ merged: true, tickets: 1 });
    for (const id of [first.ticket.id, second.id]) {
      expect(await findRequester(t.db, (await findTicketById(t.db, id))!)).toMatchObject({ address: 'juan@client.example' });
    }
  });
});
