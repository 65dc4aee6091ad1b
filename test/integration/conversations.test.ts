import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { DEFAULT_RULES_FILE } from '../../daemon/config.js';
import { suppressContact } from '../../db/bounces.js';
import { setTicketStatus } from '../../db/tickets.js';
import { runMailroom } from '../helpers/daemon-process.js';
import { ticketDetail, ticketOfInbound, waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { startSmtpSink, type CaughtMail, type SmtpSink } from '../helpers/smtp-sink.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

/*
 * Conversations as customers write them, through the real daemon with the shipped examples: the
 * customer answers in the form the guidelines ask for and is not asked again; a ticket waits on
 * the customer only when a request actually went out; one mail answers one message.
 */
const SPANISH = readFileSync(DEFAULT_RULES_FILE, 'utf8');
const ENGLISH = readFileSync(new URL('../../examples/support.en.yaml', import.meta.url), 'utf8');

/** The Spanish example with a few settings changed, as an admin would edit it. */
function spanishWith(edit: (rules: Record<string, any>) => void): string {
  const rules = parse(SPANISH) as Record<string, any>;
  edit(rules);
  return stringify(rules);
}

let sink: SmtpSink;
const apps: TestApp[] = [];
beforeAll(async () => {
  sink = await startSmtpSink();
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await sink?.close();
});

async function startWith(rules: string): Promise<TestApp> {
  const app = await startTestApp({ rules, env: { MAILROOM_SMTP_RELAY: sink.url } });
  apps.push(app);
  return app;
}

/** The environment of a `mailroom` command run beside the test's daemon, in either mode. */
const cliEnv = (t: TestApp): Record<string, string> => ({
  MAILROOM_CONFIG: t.rulesFile,
  MAILROOM_DATA_DIR: t.dataDir,
  MAILROOM_SECRET: t.secret,
  ...(t.databaseUrl ? { DATABASE_URL: t.databaseUrl } : {}),
});

interface RulesTestReport {
  ticket: { number: number; new: boolean; opens: { relation: string; linkedTo: number } | null; statusBefore: string | null };
  found: Record<string, { value: string | null }>;
  missing: Array<{ id: string }>;
  status: string | null;
  addTags: string[];
  mails: Array<{ kind: string; to: string; cc: string[]; subject: string; body: string }>;
}

let customer = 0;
/** A new customer address for each test, so rate limits of one never touch another. */
const newCustomer = (name: string) => `${name}.${++customer}@cliente.es`;

async function write(t: TestApp, from: string, mail: { subject: string; body: string; to?: string; inReplyTo?: string; headers?: Record<string, string> }) {
  const to = mail.to ?? 'soporte@example.com';
  const sent = await t.send({ from, to: [to] }, rawMessage({ from, to, subject: mail.subject, body: mail.body, inReplyTo: mail.inReplyTo, headers: mail.headers }));
  const row = await waitForInbound(t, queuedId(sent));
  return ticketOfInbound(t, row);
}

const mailsTo = (address: string) => sink.mails.filter((m) => m.rcptTo.includes(address));
async function nthMailTo(address: string, n: number): Promise<CaughtMail> {
  await waitFor(() => mailsTo(address).length >= n, `${n} mail(s) to ${address}`);
  return mailsTo(address)[n - 1]!;
}
const askedFor = (mail: CaughtMail) => [...mail.message.text.matchAll(/^- ([^:\n]+):/gm)].map((m) => m[1]);

describe('the Spanish example, as customers answer', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startWith(SPANISH);
  });

  it.each([
    [
      'one line per label',
      [
        'Qué ocurre: desde la campaña de primavera ningún contacto de la lista Clientes recibe los correos.',
        'Cuándo: desde el lunes.',
        'Dónde: Campañas > Email > Informes.',
        'Cómo: creé el envío, seleccioné la lista Clientes y pulsé Enviar.',
        'Cuenta: 123456',
        'Subcuenta: 7890',
      ].join('\n'),
    ],
    [
      'each label on its own line, the answer below it',
      ['Qué pasa', 'no les llega nada a los contactos', '', 'Cuándo', 'el lunes por la mañana', '', 'Sección', 'Informes', '', 'Pasos', 'creé el envío y pulsé Enviar', '', 'Nº de cuenta', '123456', '', 'Subcuenta', 'ninguna'].join('\n'),
    ],
  ])('takes answers written under the labels it asked for (%s) and does not ask again', async (_form, answer) => {
    const ana = newCustomer('ana');
    const ticket = await write(t, ana, { subject: 'No me llegan los envíos', body: 'no me llegan los envíos' });
    const request = await nthMailTo(ana, 1);
    expect(askedFor(request)).toEqual(['qué ocurre', 'cuándo empezó', 'dónde ocurre', 'cómo ocurre', 'el número de cuenta', 'el número de subcuenta']);
    expect((await ticketDetail(t, ticket.id)).ticket.status).toBe('pending');

    await write(t, ana, { subject: `Re: ${request.message.subject}`, inReplyTo: request.message.messageId!, body: answer });
    const detail = await ticketDetail(t, ticket.id);
    expect(detail.ticket.missingFields).toEqual([]);
    expect(detail.ticket.status).toBe('open');
    expect(detail.ticket.tags).not.toContain('awaiting_details');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mailsTo(ana)).toHaveLength(1);
  });

  it('never counts a detail found only in quoted history (a Catalan Gmail header)', async () => {
    const marta = newCustomer('marta');
    const ticket = await write(t, marta, { subject: 'No em arriben els enviaments', body: 'no me llegan los envíos' });
    const request = await nthMailTo(marta, 1);
    const reply = ['Ara us ho envio.', '', `El dl., 3 de març 2026 a les 10:00, Soporte <soporte@example.com> va escriure:`, 'Cuenta: 123456', 'Subcuenta: 7890'].join('\n');
    await write(t, marta, { subject: `Re: ${request.message.subject}`, inReplyTo: request.message.messageId!, body: reply });
    expect((await ticketDetail(t, ticket.id)).ticket.missingFields).toEqual(expect.arrayContaining(['cuenta', 'subcuenta']));
  });

  it('keeps what it knows about the customer on a follow-up, and asks again about the problem', async () => {
    const sara = newCustomer('sara');
    const first = await write(t, sara, { subject: 'No me llegan los envíos', body: 'no me llegan los envíos. Cuenta 123456, subcuenta 7890.' });
    await nthMailTo(sara, 1);
    await setTicketStatus(t.db, first.id, 'closed');
    const closedRequest = mailsTo(sara)[0]!;
    const followUp = await write(t, sara, { subject: `Re: ${closedRequest.message.subject}`, inReplyTo: closedRequest.message.messageId!, body: 'Vuelve a pasar: no llegan.' });
    expect(followUp.id).not.toBe(first.id);
    const asked = askedFor(await nthMailTo(sara, 2));
    expect(asked).toContain('qué ocurre');
    expect(asked).not.toContain('el número de cuenta');
    expect(asked).not.toContain('el número de subcuenta');
    const detail = await ticketDetail(t, followUp.id);
    expect(detail.ticket.fields).toMatchObject({ cuenta: { value: '123456' }, subcuenta: { value: '7890' } });
    expect(detail.events.find((e) => e.type === 'fields.carried')?.data).toEqual({
      fields: { cuenta: { value: '123456', fromTicket: first.number }, subcuenta: { value: '7890', fromTicket: first.number } },
    });
  });

  it('asks the requester, copying the colleague in CC who replied, not the colleague alone', async () => {
    const ana = newCustomer('ana');
    const colega = newCustomer('colega');
    const sent = await t.send(
      { from: ana, to: ['soporte@example.com'] },
      rawMessage({ from: `Ana <${ana}>`, cc: `Colega <${colega}>`, subject: 'No me llegan los envíos', body: 'no me llegan los envíos' }),
    );
    const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(sent)));
    const request = await nthMailTo(ana, 1);
    await write(t, colega, { subject: `Re: ${request.message.subject}`, inReplyTo: request.message.messageId!, body: 'Cuenta: 123456' });
    const second = await nthMailTo(ana, 2);
    expect(second.message.to.map((a) => a.address)).toEqual([ana]);
    expect(second.message.cc.map((a) => a.address)).toEqual([colega]);
    expect(askedFor(second)).not.toContain('el número de cuenta');
    expect(second.message.text).toMatch(/^Hola, Ana:/);
    expect((await ticketDetail(t, ticket.id)).ticket.fields).toMatchObject({ cuenta: { value: '123456' } });
  });

  it('leaves a suppressed colleague out of the copy, and still asks the requester', async () => {
    const ana = newCustomer('ana');
    const colega = newCustomer('colega');
    await suppressContact(t.db, colega, 'hard bounce: 550 5.1.1');
    const sent = await t.send(
      { from: ana, to: ['soporte@example.com'] },
      rawMessage({ from: `Ana <${ana}>`, cc: `Colega <${colega}>`, subject: 'No me llegan las facturas', body: 'no me llegan las facturas' }),
    );
    await ticketOfInbound(t, await waitForInbound(t, queuedId(sent)));
    const request = await nthMailTo(ana, 1);
    await write(t, colega, { subject: `Re: ${request.message.subject}`, inReplyTo: request.message.messageId!, body: 'Cuenta: 654321' });
    const second = await nthMailTo(ana, 2);
    expect(second.rcptTo).toEqual([ana]);
    expect(second.message.cc.map((a) => a.address)).toEqual([]);
    expect(askedFor(second)).not.toContain('el número de cuenta');
  });

  it('rules test shows what the daemon did with the same message, field by field', async () => {
    const leo = newCustomer('leo');
    const raw = rawMessage({ from: `Leo <${leo}>`, subject: 'No puedo entrar', body: 'No puedo entrar desde ayer.\nCuenta: 445566\nMi contraseña: hunter2secret' });
    const sent = await t.send({ from: leo, to: ['soporte@example.com'] }, raw);
    const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(sent)));
    const mail = await nthMailTo(leo, 1);
    const detail = await ticketDetail(t, ticket.id);

    const eml = path.join(t.dataDir, 'same.eml');
    writeFileSync(eml, raw);
    const run = await runMailroom(['rules', 'test', eml, '--json', '--number', String(ticket.number)], cliEnv(t));
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { found: Record<string, { value: string | null }>; missing: Array<{ id: string }>; status: string | null; addTags: string[]; mails: Array<{ kind: string; to: string; subject: string; body: string }> };
    const foundEvent = detail.events.find((e) => e.type === 'fields.found')!.data as { fields: Record<string, string | null> };
    expect(Object.fromEntries(Object.entries(report.found).map(([id, f]) => [id, f.value]))).toEqual(foundEvent.fields);
    expect(report.missing.map((m) => m.id)).toEqual(detail.ticket.missingFields);
    expect(report.status).toBe(detail.ticket.status);
    expect([...report.addTags].sort()).toEqual([...detail.ticket.tags].sort());
    expect(report.mails.map((m) => ({ to: m.to, subject: m.subject, body: m.body.trim() }))).toEqual([{ to: leo, subject: mail.message.subject, body: mail.message.text.trim() }]);
  }, 60_000);

  it('rules test --ticket N shows what the daemon then does with a reply on ticket N', async () => {
    const ines = newCustomer('ines');
    const colega = newCustomer('colega');
    const first = rawMessage({ from: `Inés <${ines}>`, cc: `Colega <${colega}>`, subject: 'No me llegan los envíos', body: 'no me llegan los envíos desde ayer' });
    const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(await t.send({ from: ines, to: ['soporte@example.com'] }, first))));
    const request = await nthMailTo(ines, 1);
    const reply = rawMessage({ from: `Colega <${colega}>`, subject: `Re: ${request.message.subject}`, inReplyTo: request.message.messageId!, body: 'Cuenta: 778899\nSubcuenta: 12' });
    const eml = path.join(t.dataDir, 'reply.eml');
    writeFileSync(eml, reply);

    const run = await runMailroom(['rules', 'test', eml, '--json', '--ticket', String(ticket.number)], cliEnv(t));
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as RulesTestReport;
    expect(report.ticket).toEqual({ number: ticket.number, new: false, opens: null, statusBefore: 'pending' });

    const row = await waitForInbound(t, queuedId(await t.send({ from: colega, to: ['soporte@example.com'] }, reply)));
    const detail = await ticketDetail(t, ticket.id);
    const foundEvents = detail.events.filter((e) => e.type === 'fields.found');
    expect(Object.fromEntries(Object.entries(report.found).map(([id, f]) => [id, f.value]))).toEqual((foundEvents.at(-1)!.data as { fields: unknown }).fields);
    expect(report.missing.map((m) => m.id)).toEqual(detail.ticket.missingFields);
    expect(report.status ?? 'pending').toBe(detail.ticket.status);
    const answer = await nthMailTo(ines, 2);
    expect(report.mails.map((m) => ({ to: m.to, cc: m.cc, subject: m.subject, body: m.body.trim() }))).toEqual([
      { to: ines, cc: [colega], subject: answer.message.subject, body: answer.message.text.trim() },
    ]);
    expect(row.ticketId).toBe(ticket.id);
  }, 60_000);

  it('rules test --ticket N on a closed ticket shows the follow-up it would open, with what is known of the customer', async () => {
    const teo = newCustomer('teo');
    const first = await write(t, teo, { subject: 'No me llegan los envíos', body: 'no me llegan los envíos. Cuenta 123456, subcuenta 7890.' });
    await nthMailTo(teo, 1);
    await setTicketStatus(t.db, first.id, 'closed');
    const eml = path.join(t.dataDir, 'followup.eml');
    writeFileSync(eml, rawMessage({ from: `Teo <${teo}>`, subject: 'Vuelve a pasar', body: 'Vuelve a pasar: no llegan.' }));
    const run = await runMailroom(['rules', 'test', eml, '--json', '--ticket', String(first.number), '--number', '777'], cliEnv(t));
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as RulesTestReport;
    expect(report.ticket).toEqual({ number: 777, new: true, opens: { relation: 'followup', linkedTo: first.number }, statusBefore: null });
    expect(report.missing.map((m) => m.id)).not.toContain('cuenta');
    expect(report.missing.map((m) => m.id)).toContain('que_ocurre');
    const none = await runMailroom(['rules', 'test', eml, '--ticket', '999999'], cliEnv(t));
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no ticket 999999');
  }, 60_000);

  it('asks for the device when only the mail client is given', async () => {
    const luis = newCustomer('luis');
    await write(t, luis, {
      subject: 'La plantilla se ve mal',
      body: 'Hola, el email de la campaña «Rebajas» se ve mal en Outlook: las columnas se descuadran desde ayer. Cuenta 55555, subcuenta 2.',
    });
    const asked = askedFor(await nthMailTo(luis, 1));
    expect(asked).toContain('el dispositivo');
    expect(asked).not.toContain('el programa de correo');
  });

  it('sends one mail to a customer who sent a password and left details out: the warning inside the request', async () => {
    const pepe = newCustomer('pepe');
    const ticket = await write(t, pepe, { subject: 'No puedo entrar', body: 'No puedo entrar. Mi contraseña: hunter2secret' });
    const mail = await nthMailTo(pepe, 1);
    await waitFor(async () => (await ticketDetail(t, ticket.id)).events.some((e) => e.type === 'sensitive.detected'), 'the sensitive event');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mailsTo(pepe)).toHaveLength(1);
    expect(askedFor(mail).length).toBeGreaterThan(0);
    expect(mail.message.text).toContain('Importante: su mensaje contenía');
    expect(mail.message.text).toContain('una contraseña');
    expect(mail.message.text).not.toContain('hunter2secret');
  });

  it('does not make a ticket wait on a customer whose request for details was withheld', async () => {
    const eva = newCustomer('eva');
    const ticket = await write(t, eva, { subject: 'No me llegan los envíos', body: 'no me llegan los envíos', headers: { 'X-Auto-Response-Suppress': 'All' } });
    const detail = await ticketDetail(t, ticket.id);
    expect(detail.ticket.status).toBe('new');
    expect(detail.ticket.tags).toContain('details_incomplete');
    expect(detail.ticket.tags).not.toContain('awaiting_details');
    expect(detail.events.find((e) => e.type === 'details.request_withheld')?.data).toEqual({ reason: 'auto_response_suppress' });
    expect(mailsTo(eva)).toHaveLength(0);
  });
});

describe('the Spanish example, edited', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startWith(
      spanishWith((rules) => {
        rules.auto_replies = { ...rules.auto_replies, max_detail_requests: 1 };
        rules.agents = ['guardia@example.net'];
        rules.status = { ...rules.status, on_enter: { ...rules.status?.on_enter, new: [{ add_tag: 'sin_asignar' }, { notify: 'guardia@example.net', template: 'alerta' }] } };
        rules.templates.es.notifications.alerta = {
          subject: 'Nueva solicitud de {{customer_email}}',
          body: 'Cliente: {{customer_name}} <{{customer_email}}>\nCategoría: {{category}}\nEstado: {{status}}\nFalta:\n{{#missing}}- {{label}}\n{{/missing}}',
        };
      }),
    );
  });

  it('runs the actions of entering "new" when a ticket is created, the alert filled from the ticket and its requester', async () => {
    const rosa = newCustomer('rosa');
    const from = `Rosa Díaz <${rosa}>`;
    const sent = await t.send({ from: rosa, to: ['soporte@example.com'] }, rawMessage({ from, subject: 'Duda', body: 'no me llegan los envíos' }));
    const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(sent)));
    expect((await ticketDetail(t, ticket.id)).ticket.tags).toContain('sin_asignar');
    await waitFor(() => sink.mails.some((m) => m.rcptTo.includes('guardia@example.net') && m.message.subject.includes(rosa)), 'the alert');
    const alert = sink.mails.find((m) => m.rcptTo.includes('guardia@example.net') && m.message.subject.includes(rosa))!;
    expect(alert.message.text).toContain(`Cliente: Rosa Díaz <${rosa}>`);
    expect(alert.message.text).toContain('Categoría: Consulta general');
    expect(alert.message.text).toContain('Falta:\n- qué ocurre\n');
    expect(alert.message.text).toContain('Estado: new');
  });

  it("takes an agent's answer by mail to an alert as the agent's reply: to the customer, on_agent_reply status, no alert about it", async () => {
    const olga = newCustomer('olga');
    const ticket = await write(t, olga, { subject: 'Error al importar', body: 'no me deja importar contactos' });
    const isAlert = (m: CaughtMail) => m.rcptTo.includes('guardia@example.net') && m.message.subject.includes(olga);
    await waitFor(() => sink.mails.some(isAlert), 'the alert');
    const alert = sink.mails.find(isAlert)!;
    const alertsBefore = sink.mails.filter((m) => m.rcptTo.includes('guardia@example.net')).length;
    await nthMailTo(olga, 1);
    const answer = ['Hola, Olga: ya lo estamos mirando, le escribo en cuanto esté.', '', `El 3 dic 2026, a las 10:00, Soporte <soporte@example.com> escribió:`, `> ${alert.message.text.split('\n')[0]}`].join('\n');
    const to = alert.message.replyTo[0]!.address;
    const sent = await t.send({ from: 'guardia@example.net', to: [to] }, rawMessage({ from: 'Guardia <guardia@example.net>', to, subject: `Re: ${alert.message.subject}`, inReplyTo: alert.message.messageId!, body: answer }));
    const row = await waitForInbound(t, queuedId(sent));
    expect(row.state).toBe('processed');

    const reply = await nthMailTo(olga, 2);
    expect(reply.message.text.trim()).toBe('Hola, Olga: ya lo estamos mirando, le escribo en cuanto esté.');
    expect(reply.message.from?.address).toBe('soporte@example.com');
    const detail = await ticketDetail(t, ticket.id);
    expect(detail.ticket.status).toBe('pending');
    expect(detail.events.find((e) => e.type === 'agent.replied')?.data).toMatchObject({ via: 'mail', from: 'guardia@example.net', to: olga });
    expect(detail.events.some((e) => e.type === 'status.changed' && (e.data as { reason: string }).reason === 'customer_reply')).toBe(false);
    expect(detail.participants.map((p) => p.address)).not.toContain('guardia@example.net');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sink.mails.filter((m) => m.rcptTo.includes('guardia@example.net'))).toHaveLength(alertsBefore);
  });

  it("does not take mail that only claims an agent's address as the agent's reply", async () => {
    const bruno = newCustomer('bruno');
    const colega = newCustomer('colega');
    const sent = await t.send({ from: bruno, to: ['soporte@example.com'] }, rawMessage({ from: bruno, cc: colega, subject: 'Error al importar', body: 'no me deja importar contactos' }));
    const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(sent)));
    const request = await nthMailTo(bruno, 1);
    // The customer knows everything of the mail they got: its Message-ID and the ticket's reply address.
    const to = request.message.replyTo[0]!.address;
    const forged = rawMessage({ from: 'Guardia <guardia@example.net>', to, subject: `Re: ${request.message.subject}`, inReplyTo: request.message.messageId!, body: 'Compra ya en http://spam.example/ — Soporte' });
    const row = await waitForInbound(t, queuedId(await t.send({ from: 'guardia@example.net', to: [to] }, forged)));
    expect(row.state).toBe('processed');
    const detail = await ticketDetail(t, ticket.id);
    expect(detail.events.some((e) => e.type === 'agent.replied')).toBe(false);
    expect(detail.events.find((e) => e.type === 'agent_mail.unverified')?.data).toMatchObject({ from: 'guardia@example.net' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sink.mails.some((m) => m.message.text.includes('spam.example') && m.rcptTo.some((r) => r === bruno || r === colega))).toBe(false);
  });

  it('after the last request leaves the ticket open for an agent, tagged, instead of pending forever', async () => {
    const juan = newCustomer('juan');
    const ticket = await write(t, juan, { subject: 'No me llegan los envíos', body: 'no me llegan los envíos' });
    const request = await nthMailTo(juan, 1);
    expect((await ticketDetail(t, ticket.id)).ticket.status).toBe('pending');
    await write(t, juan, { subject: `Re: ${request.message.subject}`, inReplyTo: request.message.messageId!, body: 'Cuenta: 123456' });
    const detail = await ticketDetail(t, ticket.id);
    expect(detail.ticket.status).toBe('open');
    expect(detail.ticket.tags).toContain('details_incomplete');
    expect(detail.ticket.tags).not.toContain('awaiting_details');
    expect(detail.events.some((e) => e.type === 'details.request_limit')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mailsTo(juan)).toHaveLength(1);
  });
});

describe('the English example, as customers answer', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startWith(ENGLISH);
  });

  it('takes "Steps: …" as the steps to reproduce and asks only for what is still missing', async () => {
    const kim = newCustomer('kim');
    await write(t, kim, {
      to: 'support@example.com',
      subject: 'Chat widget not loading',
      body: 'The chat widget is not loading on https://shop.example.net.\nSteps: open the home page, wait ten seconds, the bubble never appears.\nBrowser: Chrome 122\nError: none in the console',
    });
    const asked = askedFor(await nthMailTo(kim, 1));
    expect(asked).toEqual(['device']);
  });
});
