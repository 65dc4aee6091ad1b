import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RULES_FILE } from '../../daemon/config.js';
import { ticketDetail, ticketOfInbound, waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';

let sink: SmtpSink;
let t: TestApp;
beforeAll(async () => {
  sink = await startSmtpSink();
  t = await startTestApp({ rules: readFileSync(DEFAULT_RULES_FILE, 'utf8'), env: { MAILROOM_SMTP_RELAY: sink.url } });
});
afterAll(async () => {
  await t?.close();
  await sink?.close();
});

describe('the default example (soporte.es.yaml)', () => {
  it('asks a Spanish mail that only says "no me llegan los envíos" for exactly the missing items, and opens the ticket once answered', async () => {
    const sent = await t.send(
      { from: 'ana@cliente.es', to: ['soporte@example.com'] },
      rawMessage({ from: 'Ana <ana@cliente.es>', subject: 'No me llegan los envíos', body: 'no me llegan los envíos', messageId: 'ana.x@cliente.es' }),
    );
    const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(sent)));
    const [reply] = await sink.waitForMails(1);
    const text = reply!.message.text;
    const asked = [...text.matchAll(/^- ([^:]+):/gm)].map((m) => m[1]);
    expect(asked).toEqual(['qué ocurre', 'cuándo empezó', 'dónde ocurre', 'cómo ocurre', 'el número de cuenta', 'el número de subcuenta']);
    expect(text).toContain('24 horas');
    expect(reply!.message.subject).toContain(`[#${ticket.number}]`);
    expect((await ticketDetail(t, ticket.id)).ticket.status).toBe('pending');

    const answer = [
      'Qué ocurre: desde la campaña de primavera ningún contacto de la lista Clientes recibe los correos, el informe marca todos como enviados pero nadie los recibe.',
      'Cuándo: desde el lunes 3 de marzo hacia las 10:00.',
      'Dónde: Campañas > Email > Informes.',
      'Cómo: 1. abro la campaña 2. pulso Enviar 3. el informe dice enviado.',
      'Mi cuenta 123456, subcuenta 7890.',
    ].join('\n');
    const replied = await t.send(
      { from: 'ana@cliente.es', to: ['soporte@example.com'] },
      rawMessage({ from: 'Ana <ana@cliente.es>', subject: `Re: ${reply!.message.subject}`, inReplyTo: reply!.message.messageId!, body: answer }),
    );
    await waitForInbound(t, queuedId(replied));
    const detail = await ticketDetail(t, ticket.id);
    expect(detail.ticket.missingFields).toEqual([]);
    expect(detail.ticket.status).toBe('open');
    expect(detail.ticket.tags).not.toContain('awaiting_details');
    expect(detail.events.some((e) => e.type === 'details.complete')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sink.mails).toHaveLength(1);
  });
});
