import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suppressContact } from '../../db/bounces.js';
import { setTicketStatus } from '../../db/tickets.js';
import { parseOwnMessageId, recipientTokenDelivery, verifyRecipientToken, verifyToken } from '../../parsers/tokens.js';
import { ticketDetail, ticketOfInbound, waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { startSmtpSink, type CaughtMail, type SmtpSink } from '../helpers/smtp-sink.js';
import { FIXTURES, rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../helpers/wait.js';

let sink: SmtpSink;
let t: TestApp;
beforeAll(async () => {
  sink = await startSmtpSink();
  t = await startTestApp({ rules: 'details.yaml', env: { MAILROOM_SMTP_RELAY: sink.url } });
});
afterAll(async () => {
  await t?.close();
  await sink?.close();
});

async function deliver(options: Parameters<typeof rawMessage>[0], rcpt = 'soporte@example.com') {
  const from = /<([^>]+)>/.exec(options.from)?.[1] ?? options.from;
  const result = await t.send({ from, to: [rcpt] }, rawMessage(options));
  expect(result.code, result.response).toBe(250);
  return waitForInbound(t, queuedId(result));
}

/** Mails the sink caught for one recipient, once the daemon's outbox for it is drained. */
async function mailsTo(address: string, atLeast = 0): Promise<CaughtMail[]> {
  if (atLeast > 0) await waitFor(() => sink.mails.filter((m) => m.rcptTo.includes(address)).length >= atLeast, `${atLeast} mail(s) to ${address}`);
  return sink.mails.filter((m) => m.rcptTo.includes(address));
}

/** Lets queued deliveries go out, so "nothing was sent" is not just "not sent yet". */
async function settle(): Promise<void> {
  const { deliveries } = await import('../../db/schema.js');
  await waitFor(async () => (await t.db.select({ id: deliveries.id }).from(deliveries).where(eq(deliveries.state, 'queued'))).length === 0, 'outbox to drain');
}

describe('asking for missing details', () => {
  it('answers a mail missing details with exactly one mail in Spanish listing them, and marks the ticket pending', async () => {
    const row = await deliver({ from: 'Ana <ana@cliente.es>', subject: 'No me llegan los envíos', body: 'Hola, no me llegan los envíos.', messageId: 'ana.1@cliente.es' });
    const ticket = await ticketOfInbound(t, row);
    const [mail, ...more] = await mailsTo('ana@cliente.es', 1);
    await settle();
    expect(more).toHaveLength(0);
    const m = mail!.message;
    expect(m.subject).toBe(`[#${ticket.number}] Hemos recibido su solicitud: No me llegan los envíos`);
    expect(m.text).toContain(`Su solicitud es el ticket ${ticket.number}. Le responderemos en 24 horas.`);
    expect(m.text).toContain('- número de cuenta: arriba a la izquierda de su panel');
    expect(m.text).toContain('- cuándo empezó: fecha u hora aproximada');
    expect(m.text).not.toContain('captura');
    expect(m.from).toEqual({ address: 'soporte@example.com', name: 'Soporte' });
    expect(m.headers.get('auto-submitted')).toEqual(['auto-replied']);
    expect(m.headers.get('x-auto-response-suppress')).toEqual(['All']);
    expect(m.inReplyTo).toEqual(['ana.1@cliente.es']);
    expect(m.references).toEqual(['ana.1@cliente.es']);
    expect(parseOwnMessageId(t.secret, m.messageId!)).toMatchObject({ ticketNumber: ticket.number });
    const replyTo = m.replyTo[0]!.address;
    expect(verifyToken(t.secret, 't', /^soporte\+([^@]+)@example\.com$/.exec(replyTo)![1]!)).toBe(String(ticket.number));
    const token = /^bounces\+([^@]+)@example\.com$/.exec(mail!.envelopeFrom)![1]!;
    expect(verifyRecipientToken(t.secret, token, recipientTokenDelivery(token)!, mail!.rcptTo[0]!)).toBe(true);

    const detail = await ticketDetail(t, ticket.id);
    expect(detail.ticket.status).toBe('pending');
    expect(detail.ticket.tags).toEqual(['awaiting_details']);
    expect(detail.ticket.missingFields).toEqual(['account_number', 'when']);
    expect(detail.ticket.category).toBe('general');
    expect(detail.ticket.slaDueAt).not.toBeNull();
    expect(detail.ticket.detailRequests).toBe(1);
    expect(detail.articles.map((a) => a.direction)).toEqual(['inbound', 'outbound']);
  });

  it('opens the ticket once a reply gives the missing details, and asks nothing more', async () => {
    const row = await deliver({ from: 'bea@cliente.es', subject: 'Error al importar', body: 'No puedo importar contactos.', messageId: 'bea.1@cliente.es' });
    const ticket = await ticketOfInbound(t, row);
    const [request] = await mailsTo('bea@cliente.es', 1);
    // The customer answers our mail: it threads by In-Reply-To to our Message-ID.
    await deliver({ from: 'bea@cliente.es', subject: `Re: ${request!.message.subject}`, inReplyTo: request!.message.messageId!, body: 'Mi cuenta es 1234567 y empezó ayer.' });
    const detail = await ticketDetail(t, ticket.id);
    expect(detail.ticket.status).toBe('open');
    expect(detail.ticket.tags).toEqual([]);
    expect(detail.ticket.missingFields).toEqual([]);
    expect(detail.ticket.fields).toMatchObject({ account_number: { value: '1234567' } });
    expect(detail.events.map((e) => e.type)).toEqual(expect.arrayContaining(['details.complete', 'tag.removed', 'status.changed']));
    await settle();
    expect(await mailsTo('bea@cliente.es')).toHaveLength(1);
  });

  it('accumulates details over several replies and stops asking after the configured number of requests', async () => {
    const row = await deliver({ from: 'carlos@cliente.es', subject: 'Consulta', body: 'Tengo un problema.', messageId: 'carlos.1@cliente.es' });
    const ticket = await ticketOfInbound(t, row);
    await mailsTo('carlos@cliente.es', 1);
    await deliver({ from: 'carlos@cliente.es', subject: `Re: [#${ticket.number}] Consulta`, body: 'Mi cuenta: 7654321' });
    const second = await mailsTo('carlos@cliente.es', 2);
    expect(second[1]!.message.text).toContain('cuándo empezó');
    expect(second[1]!.message.text).not.toContain('número de cuenta');
    await deliver({ from: 'carlos@cliente.es', subject: `Re: [#${ticket.number}] Consulta`, body: 'Sigo sin saber.' });
    await settle();
    expect(await mailsTo('carlos@cliente.es')).toHaveLength(2);
    const detail = await ticketDetail(t, ticket.id);
    expect(detail.ticket.missingFields).toEqual(['when']);
    expect(detail.events.some((e) => e.type === 'details.request_limit')).toBe(true);
  });

  it('sends nothing to an out-of-office, a MAILER-DAEMON mail or list mail', async () => {
    const row = await deliver({ from: 'dora@cliente.es', subject: 'Ayuda', body: 'Ayuda por favor.', messageId: 'dora.1@cliente.es' });
    await ticketOfInbound(t, row);
    await mailsTo('dora@cliente.es', 1);
    const before = sink.mails.length;
    await deliver({ from: 'dora@cliente.es', subject: 'Fuera de la oficina', inReplyTo: 'dora.1@cliente.es', headers: { 'Auto-Submitted': 'auto-replied' } });
    await deliver({ from: 'MAILER-DAEMON@mx.cliente.es', subject: 'Undelivered Mail Returned to Sender' });
    await deliver({ from: 'news@lista.example', subject: 'Boletín', headers: { 'List-Id': '<boletin.lista.example>', 'List-Unsubscribe': '<mailto:u@lista.example>' } });
    await deliver({ from: 'exchange@cliente.es', subject: 'Notificación', headers: { 'X-Auto-Response-Suppress': 'All' } });
    await settle();
    expect(sink.mails.length).toBe(before);
  });

  it('answers nobody for a mail with no From header: there is no sender to verify', async () => {
    const result = await t.send({ from: 'nofrom@cliente.es', to: ['soporte@example.com'] }, 'Subject: sin remitente\r\n\r\nNo me llegan los envíos.\r\n');
    expect(result.code).toBe(250);
    const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(result)));
    const detail = await ticketDetail(t, ticket.id);
    expect(detail.ticket.tags).toEqual(['unverified_sender']);
    expect(detail.events.find((e) => e.type === 'sender.unverified')?.data).toMatchObject({ reason: 'no_from' });
    await settle();
    expect(await mailsTo('nofrom@cliente.es')).toHaveLength(0);
  });

  it('answers a mail with no From header at its envelope sender when the rules trust unverified senders', async () => {
    const trusting = await startTestApp({ rules: `${readFileSync(path.join(FIXTURES, 'rules', 'details.yaml'), 'utf8')}\nsecurity:\n  unverified_sender: trust\n`, env: { MAILROOM_SMTP_RELAY: sink.url } });
    try {
      const result = await trusting.send({ from: 'nofrom2@cliente.es', to: ['soporte@example.com'] }, 'Subject: sin remitente\r\n\r\nNo me llegan los envíos.\r\n');
      expect(result.code).toBe(250);
      await waitForInbound(trusting, queuedId(result));
      const [reply] = await mailsTo('nofrom2@cliente.es', 1);
      expect(reply!.message.subject).toMatch(/Hemos recibido su solicitud: sin remitente/);
    } finally {
      await trusting.close();
    }
  });

  it('never answers a suppressed address, and records why', async () => {
    await suppressContact(t.db, 'gone@cliente.es', 'hard bounce');
    const row = await deliver({ from: 'gone@cliente.es', subject: 'Hola', body: 'Hola.' });
    const ticket = await ticketOfInbound(t, row);
    await settle();
    expect(await mailsTo('gone@cliente.es')).toHaveLength(0);
    const withheld = (await ticketDetail(t, ticket.id)).events.find((e) => e.type === 'auto_reply.withheld');
    expect(withheld?.data).toMatchObject({ reason: 'suppressed', to: 'gone@cliente.es' });
  });

  it('keeps 50 mails from one sender in a minute within the per-recipient limit', async () => {
    const sender = 'flood@cliente.es';
    for (let i = 0; i < 50; i += 1) {
      const result = await t.send({ from: sender, to: ['soporte@example.com'] }, rawMessage({ from: sender, subject: `Problema ${i}`, body: 'Algo falla.' }));
      expect(result.code).toBe(250);
    }
    const { inboundMessages } = await import('../../db/schema.js');
    await waitFor(async () => {
      const rows = await t.db.select({ state: inboundMessages.state }).from(inboundMessages).where(eq(inboundMessages.mailFrom, sender));
      return rows.length === 50 && rows.every((r) => r.state === 'processed');
    }, 'all 50 mails to be processed', 30_000);
    await settle();
    expect(await mailsTo(sender)).toHaveLength(10);
    const { ticketEvents } = await import('../../db/schema.js');
    const withheld = await t.db.select({ data: ticketEvents.data }).from(ticketEvents).where(eq(ticketEvents.type, 'auto_reply.withheld'));
    expect(withheld.filter((e) => e.data.to === sender && e.data.reason === 'rate_limit_recipient')).toHaveLength(40);
  });

  it('lets no line break from a customer subject into the headers of the reply', async () => {
    // An encoded-word decodes to CR/LF followed by a header: the classic injection.
    const evil = `=?UTF-8?B?${Buffer.from('Hola\r\nBcc: victim@evil.example\r\nX-Injected: yes').toString('base64')}?=`;
    const row = await deliver({ from: 'eve@cliente.es', subject: evil, body: 'Hola.' });
    const ticket = await ticketOfInbound(t, row);
    const [mail] = await mailsTo('eve@cliente.es', 1);
    expect(mail!.rcptTo).toEqual(['eve@cliente.es']);
    expect(mail!.message.headers.has('bcc')).toBe(false);
    expect(mail!.message.headers.has('x-injected')).toBe(false);
    expect(mail!.message.subject).toBe(`[#${ticket.number}] Hemos recibido su solicitud: Hola Bcc: victim@evil.example X-Injected: yes`);
  });

  it('redacts a password, warns the customer inside the one mail that answers, and tags the ticket', async () => {
    const row = await deliver({ from: 'pepe@cliente.es', subject: 'No puedo entrar', body: 'Mi cuenta 5551234 falla desde ayer. Contraseña: hunter2secret' });
    const ticket = await ticketOfInbound(t, row);
    await mailsTo('pepe@cliente.es', 1);
    await settle();
    const mails = await mailsTo('pepe@cliente.es');
    // one mail: the acknowledgement with its request for details, the warning as its last paragraph
    expect(mails).toHaveLength(1);
    expect(mails[0]!.message.subject).not.toContain('No nos envíe');
    expect(mails[0]!.message.text).toMatch(/Por su seguridad, nunca nos envíe contraseñas\. Lo hemos borrado\.\s*$/);
    expect(mails[0]!.message.text).not.toContain('hunter2secret');
    const detail = await ticketDetail(t, ticket.id);
    expect(detail.ticket.tags).toContain('sensitive_data');
    const inbound = detail.articles.find((a) => a.direction === 'inbound')!;
    expect(inbound.visibleText).not.toContain('hunter2secret');
    expect(inbound.textBody).not.toContain('hunter2secret');
    expect(inbound.visibleText).toContain('[redacted]');
  });

  it('redacts a password in the subject: not in the ticket, the article or the mail that answers', async () => {
    const row = await deliver({ from: 'lola@cliente.es', subject: 'Mi password=Lola2024! no funciona', body: 'Mi cuenta 5551299 no me deja entrar.' });
    const ticket = await ticketOfInbound(t, row);
    expect(ticket.subject).not.toContain('Lola2024!');
    expect(ticket.subject).toContain('[redacted]');
    const detail = await ticketDetail(t, ticket.id);
    expect(detail.articles.find((a) => a.direction === 'inbound')!.subject).not.toContain('Lola2024!');
    const mails = await mailsTo('lola@cliente.es', 1);
    expect(mails[0]!.message.subject).not.toContain('Lola2024!');
    expect(mails[0]!.message.text).not.toContain('Lola2024!');
  });

  it('runs the actions of entering a status: notifies the requester and tags', async () => {
    const row = await deliver({ from: 'rosa@cliente.es', subject: 'Plantilla rota', body: 'Mi cuenta 1112223, desde el lunes la plantilla se rompe.' });
    const ticket = await ticketOfInbound(t, row);
    await mailsTo('rosa@cliente.es', 1);
    const { changeStatus } = await import('../../daemon/tickets/ticket-status.js');
    const { NO_AUTOMATION } = await import('../../daemon/tickets/automatic-mail.js');
    const { readRulesFile } = await import('../../daemon/rules-store.js');
    const ruleSet = await readRulesFile(t.rulesFile);
    const { deliveryIds: ids } = await t.db.transaction(async (tx) => {
      const { lockTicket } = await import('../../db/tickets.js');
      const locked = (await lockTicket(tx, ticket.id))!;
      return changeStatus(tx, { ruleSet, secret: t.secret, now: new Date() }, locked, ruleSet.mailboxes[0]!, 'solved', 'agent', {
        automation: NO_AUTOMATION,
        inReplyTo: null,
        references: [],
      });
    });
    for (const id of ids) await t.app.outboundQueue.enqueue(id);
    const mails = await mailsTo('rosa@cliente.es', 2);
    expect(mails[1]!.message.subject).toBe(`[#${ticket.number}] Resuelto: Plantilla rota`);
    expect((await ticketDetail(t, ticket.id)).ticket.tags).toContain('resolved');
    void setTicketStatus;
  });

  it('does not acknowledge when the mailbox turns acknowledgements off but still asks for details', async () => {
    const complete = await deliver({ from: 'ken@client.example', to: 'support@example.org', subject: 'Account', body: 'Account 9876543, broken since yesterday.' }, 'support@example.org');
    await ticketOfInbound(t, complete);
    await deliver({ from: 'lia@client.example', to: 'support@example.org', subject: 'Help', body: 'It is broken.' }, 'support@example.org');
    await settle();
    expect(await mailsTo('ken@client.example')).toHaveLength(0);
    const [request] = await mailsTo('lia@client.example', 1);
    expect(request!.message.subject).toMatch(/^\[#\d+\] We need a few details: Help$/);
  });
});
