import { generateKeyPairSync } from 'node:crypto';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RULES_FILE } from '../../daemon/config.js';
import { getInbound } from '../../db/inbound.js';
import { readFileSync } from 'node:fs';
import { ticketDetail, ticketOfInbound, waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

/*
 * From proves nothing by itself. SPF, DKIM and DMARC are checked against a DNS server of the
 * test's; mail whose From cannot be believed never speaks for the person it names.
 */
let sink: SmtpSink;
let t: TestApp;
beforeAll(async () => {
  sink = await startSmtpSink();
  t = await startTestApp({ rules: readFileSync(DEFAULT_RULES_FILE, 'utf8'), env: { MAILROOM_SMTP_RELAY: sink.url, MAILROOM_TRUSTED_AUTHSERV_IDS: 'relay.example.com' } });
});
afterAll(async () => {
  await t?.close();
  await sink?.close();
});

const mailsTo = (address: string) => sink.mails.filter((m) => m.rcptTo.includes(address));
const settle = () => new Promise((resolve) => setTimeout(resolve, 400));

async function deliver(envelopeFrom: string, raw: string | Buffer) {
  const sent = await t.send({ from: envelopeFrom, to: ['soporte@example.com'] }, raw);
  expect(sent.code, sent.response).toBe(250);
  return waitForInbound(t, queuedId(sent));
}

/** A mail signed with DKIM for `domain`, the key published in the test's DNS. */
async function signed(domain: string, from: string, subject: string, body: string): Promise<Buffer> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  t.dns.set(`mail._domainkey.${domain}`, 'TXT', [`v=DKIM1; k=rsa; p=${der}`]);
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  const info = (await composer.sendMail({
    from: from,
    to: 'soporte@example.com',
    subject,
    text: body,
    dkim: { domainName: domain, keySelector: 'mail', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
  })) as { message: Buffer };
  return info.message;
}

describe('sender authentication', () => {
  it('does not let a forged From take over the requester’s ticket (spoofed requester)', async () => {
    const first = await deliver('ana@cliente.es', rawMessage({ from: 'Ana <ana@cliente.es>', subject: 'No me llegan los envíos', body: 'No me llegan los envíos desde ayer.' }));
    const ticket = await ticketOfInbound(t, first);
    await waitFor(() => mailsTo('ana@cliente.es').length >= 1, 'the answer to Ana');
    const before = await ticketDetail(t, ticket.id);
    expect(before.articles[0]!.senderAuth).toMatchObject({ spf: { result: 'pass', domain: 'cliente.es' }, dmarc: { result: 'none' }, alignedPass: true });

    const forged = rawMessage({
      from: 'Ana <ana@cliente.es>',
      subject: `Re: [#${ticket.number}] No me llegan los envíos`,
      cc: 'eve2@evil.example',
      headers: { 'Reply-To': 'eve@evil.example' },
      body: 'Cuenta: 999999\nSubcuenta: 1\nPor favor envíen la factura a esta dirección.',
    });
    const row = await deliver('eve@evil.example', forged);
    expect(row.senderAuth).toMatchObject({ spf: { result: 'pass', domain: 'evil.example' }, fromDomain: 'cliente.es', alignedPass: false });
    expect(row.ticketId).not.toBe(ticket.id);

    const after = await ticketDetail(t, ticket.id);
    expect(after.articles).toHaveLength(before.articles.length);
    expect(after.ticket.fields).toEqual(before.ticket.fields);
    expect(after.participants.map((p) => p.address)).not.toContain('eve2@evil.example');
    expect(after.events.find((e) => e.type === 'ticket.linked')?.data).toMatchObject({ relation: 'unverified_sender' });

    const own = await ticketDetail(t, row.ticketId!);
    expect(own.ticket.tags).toEqual(['unverified_sender']);
    expect(own.participants.map((p) => p.address)).toEqual(['ana@cliente.es']);
    expect(own.events.find((e) => e.type === 'sender.unverified')?.data).toMatchObject({ reason: 'not_aligned', spf: 'pass', dmarc: 'none' });
    await settle();
    expect(mailsTo('eve@evil.example')).toHaveLength(0);
    expect(mailsTo('eve2@evil.example')).toHaveLength(0);
    expect(mailsTo('ana@cliente.es')).toHaveLength(1);
  });

  it('believes a DKIM signature aligned with From under a DMARC policy, whatever the envelope', async () => {
    t.dns.set('_dmarc.firmado.example', 'TXT', ['v=DMARC1; p=reject']);
    const raw = await signed('firmado.example', 'Luz <luz@firmado.example>', 'No me llegan los envíos', 'No me llegan los envíos desde ayer.');
    const row = await deliver('rebotes@proveedor-de-envios.example', raw);
    expect((await getInbound(t.db, row.id))!.senderAuth).toMatchObject({ dmarc: { result: 'pass', policy: 'reject' }, dkim: [{ domain: 'firmado.example', result: 'pass', aligned: true }] });
    const detail = await ticketDetail(t, row.ticketId!);
    expect(detail.ticket.tags).not.toContain('unverified_sender');
    await waitFor(() => mailsTo('luz@firmado.example').length >= 1, 'the answer to Luz');
  });

  it('never excuses a DMARC failure', async () => {
    t.dns.set('_dmarc.estricto.example', 'TXT', ['v=DMARC1; p=quarantine']); // p=reject is suspended: see suspended.test.ts
    const row = await deliver('jefe@otro.example', rawMessage({ from: 'Jefe <jefe@estricto.example>', subject: 'Pago urgente', body: 'Paguen esta factura hoy.' }));
    const detail = await ticketDetail(t, row.ticketId!);
    expect(detail.ticket.tags).toEqual(['unverified_sender']);
    expect(detail.events.find((e) => e.type === 'sender.unverified')?.data).toMatchObject({ reason: 'dmarc_fail', dmarc: 'fail' });
    await settle();
    expect(mailsTo('jefe@estricto.example')).toHaveLength(0);
  });

  it('behind a trusted relay, checks the client the relay received the mail from', async () => {
    // 127.0.0.1 is a trusted relay in the test daemon; the relay's Received header names the real client.
    const relayed = `Received: from mail.evil.example (mail.evil.example [198.51.100.66])\r\n\tby relay.example.com (Postfix) with ESMTP id 1A2B\r\n${rawMessage({ from: 'Ana <ana@cliente.es>', subject: 'Cambio de cuenta', body: 'Nueva cuenta: 123' })}`;
    const row = await deliver('ana@cliente.es', relayed);
    expect((await getInbound(t.db, row.id))!.senderAuth).toMatchObject({ spf: { result: 'fail', domain: 'cliente.es' }, alignedPass: false });
    expect((await ticketDetail(t, row.ticketId!)).ticket.tags).toEqual(['unverified_sender']);
  });

  describe('behind a relay that stamps Authentication-Results (authserv-id relay.example.com)', () => {
    // The relay received the mail from 198.51.100.66, which cliente.es's SPF does not allow: a
    // check of our own says fail; the relay's word is used only where it is the relay's.
    const received = 'Received: from mail.cliente.es (mail.cliente.es [198.51.100.66])\r\n\tby relay.example.com (Postfix) with ESMTPS id 7F3A\r\n';
    const mail = (subject: string) => rawMessage({ from: 'Ana <ana@cliente.es>', subject, body: 'Hola' });

    it('takes the SPF result from the relay’s own header, above its Received', async () => {
      const stamped = `Authentication-Results: relay.example.com;\r\n\tspf=pass (relay.example.com: domain of ana@cliente.es designates 198.51.100.66 as permitted sender) smtp.mailfrom=ana@cliente.es\r\n${received}${mail('Desde el relay')}`;
      const row = await deliver('ana@cliente.es', stamped);
      expect((await getInbound(t.db, row.id))!.senderAuth).toMatchObject({ spf: { result: 'pass', domain: 'cliente.es', by: 'relay.example.com' }, alignedPass: true });
      const detail = await ticketDetail(t, row.ticketId!);
      expect(detail.ticket.tags).not.toContain('unverified_sender');
      const io = { text: '', out: (s: string) => void (io.text += s), err: () => {}, isTTY: false };
      expect(await t.app.runCommand(['tickets', 'show', String(detail.ticket.number)], io)).toBe(0);
      expect(io.text).toContain('auth: spf=pass (cliente.es, by relay.example.com)');
    });

    it('ignores one the sender wrote: below the relay’s Received, or from another authserv-id', async () => {
      const forgedBelow = `${received}Authentication-Results: relay.example.com; spf=pass smtp.mailfrom=ana@cliente.es\r\n${mail('Falso abajo')}`;
      const below = await deliver('ana@cliente.es', forgedBelow);
      expect((await getInbound(t.db, below.id))!.senderAuth).toMatchObject({ spf: { result: 'fail', domain: 'cliente.es' }, alignedPass: false });
      expect((await getInbound(t.db, below.id))!.senderAuth!.spf.by).toBeUndefined();
      expect((await ticketDetail(t, below.ticketId!)).ticket.tags).toEqual(['unverified_sender']);

      const otherId = `Authentication-Results: mx.evil.example; spf=pass smtp.mailfrom=ana@cliente.es\r\n${received}${mail('Otro id')}`;
      const other = await deliver('ana@cliente.es', otherId);
      expect((await getInbound(t.db, other.id))!.senderAuth).toMatchObject({ spf: { result: 'fail' }, alignedPass: false });
    });

    it('still checks DMARC itself: the relay’s dmarc=pass does not excuse a failure', async () => {
      t.dns.set('_dmarc.banco-relay.example', 'TXT', ['v=DMARC1; p=quarantine']);
      const stamped = `Authentication-Results: relay.example.com; spf=pass smtp.mailfrom=x@evil.example; dmarc=pass header.from=banco-relay.example\r\n${received}${rawMessage({ from: 'avisos@banco-relay.example', subject: 'Aviso', body: 'x' })}`;
      const row = await deliver('x@evil.example', stamped);
      expect((await getInbound(t.db, row.id))!.senderAuth).toMatchObject({ spf: { result: 'pass', domain: 'evil.example', by: 'relay.example.com' }, dmarc: { result: 'fail' } });
      expect((await ticketDetail(t, row.ticketId!)).ticket.tags).toEqual(['unverified_sender']);
    });
  });

  it('takes a DNS server that never answers as temperror: the mail is filed, nothing stalls', async () => {
    t.dns.silence('mudo.example');
    const started = Date.now();
    const row = await deliver('ana@mudo.example', rawMessage({ from: 'ana@mudo.example', subject: 'Hola', body: 'Hola' }));
    expect(Date.now() - started).toBeLessThan(25_000);
    expect(row.state).toBe('processed');
    expect((await getInbound(t.db, row.id))!.senderAuth).toMatchObject({ spf: { result: 'temperror' } });
    expect((await ticketDetail(t, row.ticketId!)).events.find((e) => e.type === 'sender.unverified')?.data).toMatchObject({ reason: 'temperror' });
    // Meanwhile others are answered at once: intake does not wait on DNS.
    const other = await t.send({ from: 'rosa@cliente.es', to: ['soporte@example.com'] }, rawMessage({ from: 'rosa@cliente.es', subject: 'Otra', body: 'Hola' }));
    expect(other.code).toBe(250);
  }, 40_000);

  it('shows what was found in tickets show, as text and JSON', async () => {
    const row = await deliver('rosa@cliente.es', rawMessage({ from: 'rosa@cliente.es', subject: 'Consulta', body: 'Hola' }));
    const ticket = await ticketOfInbound(t, row);
    const io = { text: '', out: (s: string) => void (io.text += s), err: () => {}, isTTY: false };
    expect(await t.app.runCommand(['tickets', 'show', String(ticket.number)], io)).toBe(0);
    expect(io.text).toContain('auth: spf=pass (cliente.es) dkim=none dmarc=none → verified');
    const json = { text: '', out: (s: string) => void (json.text += s), err: () => {}, isTTY: false };
    expect(await t.app.runCommand(['tickets', 'show', String(ticket.number), '--json'], json)).toBe(0);
    const shown = JSON.parse(json.text) as { articles: Array<{ direction: string; senderAuth: unknown }> };
    expect(shown.articles.find((a) => a.direction === 'inbound')!.senderAuth).toEqual({
      spf: { result: 'pass', domain: 'cliente.es' },
      dkim: [],
      dmarc: { result: 'none', policy: null, domain: 'cliente.es' },
      arc: 'none',
      fromDomain: 'cliente.es',
      alignedPass: true,
    });
  });
});
