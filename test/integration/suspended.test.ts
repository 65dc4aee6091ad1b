import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RULES_FILE } from '../../daemon/config.js';
import { getInbound } from '../../db/inbound.js';
import { countTickets, ticketDetail, waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

/*
 * Mail its domain's owner asked to be refused (DMARC p=reject) and mail the relay's spam filter
 * judged spam is kept aside: no ticket, no mail, until an operator releases or deletes it.
 */
let sink: SmtpSink;
let t: TestApp;
beforeAll(async () => {
  sink = await startSmtpSink();
  t = await startTestApp({ rules: readFileSync(DEFAULT_RULES_FILE, 'utf8'), env: { MAILROOM_SMTP_RELAY: sink.url } });
  t.dns.set('_dmarc.banco.example', 'TXT', ['v=DMARC1; p=reject']);
  t.dns.set('_dmarc.tienda.example', 'TXT', ['v=DMARC1; p=quarantine']);
});
afterAll(async () => {
  await t?.close();
  await sink?.close();
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 400));

async function deliver(envelopeFrom: string, raw: string, options: { localAddress?: string } = {}) {
  const sent = await t.send({ from: envelopeFrom, to: ['soporte@example.com'] }, raw, options);
  expect(sent.code, sent.response).toBe(250);
  return waitForInbound(t, queuedId(sent));
}

async function cli(...argv: string[]) {
  const io = { text: '', errors: '', out: (s: string) => void (io.text += s), err: (s: string) => void (io.errors += s), isTTY: false };
  const code = await t.app.runCommand(argv, io);
  return { code, text: io.text, errors: io.errors };
}

async function metricValue(name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${t.httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : Number.NaN;
}

/** A mail claiming to be from the bank, sent by someone else's server: DMARC fails under p=reject. */
const forgedBankMail = (subject: string) =>
  rawMessage({ from: 'Banco <avisos@banco.example>', subject, body: 'Verifique su cuenta en http://banco.example.evil/login hoy mismo.' });

describe('suspended mail', () => {
  it('keeps a DMARC p=reject failure aside: no ticket, no mail, listed and shown for the operator', async () => {
    const tickets = await countTickets(t);
    const row = await deliver('phish@evil.example', forgedBankMail('Aviso de seguridad'));
    expect(row.state).toBe('suspended');
    expect(row.stateReason).toBe('dmarc_reject');
    expect(row.ticketId).toBeNull();
    expect(row.senderAuth).toMatchObject({ dmarc: { result: 'fail', policy: 'reject', domain: 'banco.example' } });
    await settle();
    expect(await countTickets(t)).toBe(tickets);
    expect(sink.mails.filter((m) => m.rcptTo.includes('avisos@banco.example') || m.rcptTo.includes('phish@evil.example'))).toHaveLength(0);

    const list = await cli('suspended', 'list', '--json');
    expect(list.code).toBe(0);
    const listed = (JSON.parse(list.text) as { suspended: Array<Record<string, unknown>> }).suspended.find((s) => s.id === row.id);
    expect(listed).toMatchObject({ reason: 'dmarc_reject', mailFrom: 'phish@evil.example', rcptTo: ['soporte@example.com'], from: 'avisos@banco.example', subject: 'Aviso de seguridad' });

    const show = await cli('suspended', 'show', String(row.id), '--json');
    expect(show.code).toBe(0);
    expect(JSON.parse(show.text)).toMatchObject({
      id: row.id,
      reason: 'dmarc_reject',
      from: 'avisos@banco.example',
      senderAuth: { dmarc: { result: 'fail', policy: 'reject' } },
      preview: expect.stringContaining('Verifique su cuenta'),
    });
    const text = await cli('suspended', 'show', String(row.id));
    expect(text.text).toContain(`suspended mail ${row.id}: dmarc_reject`);
    expect(text.text).toContain('dmarc=fail (p=reject)');

    expect(await metricValue('mailroom_suspended_messages')).toBeGreaterThanOrEqual(1);
    expect(await metricValue('mailroom_messages_suspended_total')).toBeGreaterThanOrEqual(1);
  });

  it('files a DMARC failure under a milder policy as unverified, not suspended', async () => {
    const row = await deliver('otro@evil.example', rawMessage({ from: 'tienda@tienda.example', subject: 'Pedido', body: 'Su pedido.' }));
    expect(row.state).toBe('processed');
    expect((await ticketDetail(t, row.ticketId!)).ticket.tags).toEqual(['unverified_sender']);
  });

  it('releases a suspended mail into a restricted ticket, never suspending it again', async () => {
    const row = await deliver('phish@evil.example', forgedBankMail('Liberar'));
    expect(row.state).toBe('suspended');
    const released = await cli('suspended', 'release', String(row.id), '--json');
    expect(released.code, released.errors).toBe(0);
    expect(JSON.parse(released.text)).toEqual({ released: row.id, queued: true });
    const after = await waitFor(async () => {
      const r = await getInbound(t.db, row.id);
      return r?.state === 'processed' ? r : undefined;
    }, 'the released mail to be filed');
    expect(after.releasedAt).toBeInstanceOf(Date);
    const detail = await ticketDetail(t, after.ticketId!);
    expect(detail.ticket.tags).toEqual(['unverified_sender']);
    await settle();
    expect(sink.mails.filter((m) => m.rcptTo.includes('avisos@banco.example'))).toHaveLength(0);

    // Released once is released: a replay files it again, it is not suspended again.
    expect((await cli('inbound', 'replay', String(row.id))).code).toBe(0);
    const replayed = await waitForInbound(t, row.id);
    expect(replayed.state).toBe('processed');

    const again = await cli('suspended', 'release', String(row.id));
    expect(again.code).not.toBe(0);
    expect(again.errors).toContain(`spool row ${row.id} is not suspended (it is processed)`);
  });

  it('deletes a suspended mail for good, and nothing else', async () => {
    const row = await deliver('phish@evil.example', forgedBankMail('Borrar'));
    const deleted = await cli('suspended', 'delete', String(row.id), '--json');
    expect(deleted.code, deleted.errors).toBe(0);
    expect(JSON.parse(deleted.text)).toEqual({ deleted: row.id });
    expect(await getInbound(t.db, row.id)).toBeNull();
    const missing = await cli('suspended', 'show', String(row.id));
    expect(missing.code).not.toBe(0);
    expect(missing.errors).toContain(`no spool row ${row.id}`);

    const filed = await deliver('ana@cliente.es', rawMessage({ from: 'ana@cliente.es', subject: 'Hola', body: 'Hola' }));
    const refused = await cli('suspended', 'delete', String(filed.id));
    expect(refused.code).not.toBe(0);
    expect(refused.errors).toContain('is not suspended (it is processed)');
    expect(await getInbound(t.db, filed.id)).not.toBeNull();
  });

  it('believes a spam verdict only from the trusted relay', async () => {
    const spam = (subject: string) => rawMessage({ from: 'ana@cliente.es', subject, headers: { 'X-Spam-Flag': 'YES', 'X-Spam-Status': 'Yes, score=12.3 required=5.0' }, body: 'Compre ahora.' });
    // 127.0.0.1 is the test daemon's trusted relay.
    const relayed = await deliver('ana@cliente.es', spam('Oferta'));
    expect(relayed.state).toBe('suspended');
    expect(relayed.stateReason).toBe('spam:x-spam-flag');
    const shown = JSON.parse((await cli('suspended', 'show', String(relayed.id), '--json')).text) as { spamHeaders: Record<string, string> };
    expect(shown.spamHeaders).toMatchObject({ 'x-spam-flag': 'YES', 'x-spam-status': 'Yes, score=12.3 required=5.0' });

    // Any other client can write the same headers: they say nothing.
    const direct = await deliver('ana@cliente.es', spam('Oferta directa'), { localAddress: '127.0.0.3' });
    expect(direct.state).toBe('processed');
    expect(direct.ticketId).not.toBeNull();

    const rspamd = await deliver('ana@cliente.es', rawMessage({ from: 'ana@cliente.es', subject: 'Rspamd', headers: { 'X-Rspamd-Action': 'add header' }, body: 'x' }));
    expect(rspamd.stateReason).toBe('spam:x-rspamd-action');
    const greylisted = await deliver('ana@cliente.es', rawMessage({ from: 'ana@cliente.es', subject: 'Rspamd greylist', headers: { 'X-Rspamd-Action': 'greylist', 'X-Spam-Status': 'No, score=1.0' }, body: 'x' }));
    expect(greylisted.state).toBe('processed');
  });

  it('follows the rules: security.dmarc_reject restrict and upstream_spam ignore file such mail', async () => {
    const rules = readFileSync(DEFAULT_RULES_FILE, 'utf8');
    const relaxed = /^security:/m.test(rules)
      ? rules.replace(/^security:.*$/m, 'security:\n  dmarc_reject: restrict\n  upstream_spam: ignore')
      : `${rules}\nsecurity:\n  dmarc_reject: restrict\n  upstream_spam: ignore\n`;
    writeFileSync(t.rulesFile, relaxed);
    expect(await t.app.reloadRules()).toBe(true);
    const forged = await deliver('phish@evil.example', forgedBankMail('Con reglas suaves'));
    expect(forged.state).toBe('processed');
    expect((await ticketDetail(t, forged.ticketId!)).ticket.tags).toEqual(['unverified_sender']);
    const spam = await deliver('ana@cliente.es', rawMessage({ from: 'ana@cliente.es', subject: 'Oferta', headers: { 'X-Spam-Flag': 'YES' }, body: 'x' }));
    expect(spam.state).toBe('processed');
    writeFileSync(t.rulesFile, rules);
    expect(await t.app.reloadRules()).toBe(true);
  });
});
