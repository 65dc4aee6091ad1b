import { loadExample } from '../helpers/examples.js';
import { describe, it, expect } from 'vitest';
import { evaluateRules } from '../../rules/evaluate.js';
import { loadRuleSet } from '../../rules/load.js';
import { actionsOnEnter, planTicketUpdate } from '../../rules/plan.js';
import type { RuleSet } from '../../rules/schema.js';
import { renderReply, templateValuesFor } from '../../rules/templates/render-reply.js';
import type { Plan, RuleMessage, TicketFacts, TicketState, Verdict } from '../../rules/verdict.js';

const NOW = new Date('2026-03-10T09:00:00Z');
const GENERIC = ['que_ocurre', 'cuando', 'donde', 'como', 'cuenta', 'subcuenta'];


const SPANISH = loadExample('examples/soporte.es.yaml');
const ENGLISH = loadExample('examples/support.en.yaml');

type Mail = Partial<RuleMessage> & { subject: string; visibleText: string };
interface Turn {
  verdict: Verdict;
  plan: Plan;
  reply: { subject: string; body: string } | null;
  warning: { subject: string; body: string } | null;
}

/**
 * A ticket's life through the pipeline's pure steps: evaluate each customer mail, plan, render
 * the reply, then carry the ticket's fields, status, tags and request count to the next mail.
 */
function conversation(ruleSet: RuleSet) {
  const mailbox = ruleSet.mailboxes[0]!;
  let ticket: TicketFacts = { isNew: true, category: null, fields: {} };
  let state: TicketState = { isNew: true, status: 'new', tags: [], detailRequests: 0 };
  let firstSubject: string | null = null;
  return (mail: Mail): Turn => {
    const message: RuleMessage = { fromAddress: 'cliente@cliente.example', mailbox: mailbox.address, tags: [], attachments: [], ...mail };
    const verdict = evaluateRules(message, ticket, ruleSet, mailbox, NOW);
    const plan = planTicketUpdate(verdict, state, ruleSet, mailbox);
    firstSubject ??= mail.subject;
    const values = templateValuesFor(verdict, { ticket_number: '1042', subject: firstSubject });
    const reply = plan.reply ? renderReply(plan.reply, ruleSet, mailbox, values) : null;
    const warning = plan.sensitiveWarning ? renderReply('sensitive_warning', ruleSet, mailbox, values) : null;
    ticket = { isNew: false, category: verdict.category?.id ?? null, fields: verdict.fields };
    const asked = plan.reply === 'missing_details' || plan.reply === 'acknowledgement_missing_details';
    state = {
      isNew: false,
      status: plan.status ?? state.status,
      tags: [...state.tags.filter((tag) => !plan.removeTags.includes(tag)), ...plan.addTags],
      detailRequests: state.detailRequests + (asked ? 1 : 0),
    };
    return { verdict, plan, reply, warning };
  };
}

const listedItems = (body: string) => body.split('\n').filter((line) => line.startsWith('- '));

describe('soporte.es.yaml', () => {
  it('answers "no me llegan los envíos" with one Spanish mail listing exactly the generic details', () => {
    const { verdict, plan, reply } = conversation(SPANISH)({
      subject: 'No me llegan los envíos',
      visibleText: 'Hola, no me llegan los envíos. ¿Pueden revisarlo? Gracias.',
    });
    expect(verdict.category).toEqual({ id: 'general', label: 'Consulta general' });
    expect(verdict.missing.map((item) => item.id)).toEqual(GENERIC);
    expect(plan).toMatchObject({ status: 'pending', addTags: ['awaiting_details'], reply: 'acknowledgement_missing_details', sensitiveWarning: false });
    expect(reply!.subject).toBe('Hemos recibido su solicitud: No me llegan los envíos [#1042]');
    expect(reply!.body).toContain('Le responderemos en un plazo máximo de 24 horas.');
    expect(listedItems(reply!.body)).toEqual(verdict.missing.map((item) => `- ${item.label}: ${item.hint}`));
    expect(listedItems(reply!.body).map((line) => line.split(':')[0])).toEqual([
      '- qué ocurre',
      '- cuándo empezó',
      '- dónde ocurre',
      '- cómo ocurre',
      '- el número de cuenta',
      '- el número de subcuenta',
    ]);
    expect(reply!.body).toContain('- el número de cuenta: aparece arriba a la izquierda de su panel');
  });

  it('completes the details with a reply giving them all: nothing missing, status open, tag removed', () => {
    const say = conversation(SPANISH);
    say({ subject: 'No me llegan los envíos', visibleText: 'Hola, no me llegan los envíos. ¿Pueden revisarlo? Gracias.' });
    const { verdict, plan, reply } = say({
      subject: 'Re: No me llegan los envíos [#1042]',
      visibleText: [
        'Buenos días. Desde el lunes 3 de marzo los envíos programados de mi newsletter no llegan a nadie,',
        'ni siquiera las pruebas a mi dirección. Lo veo en Campañas > Informes, donde aparecen como enviados.',
        'Pasos:',
        '1. creo el envío',
        '2. lo programo para las 10:00',
        'Cuenta 123456, subcuenta 7890.',
      ].join('\n'),
    });
    expect(verdict.missing).toEqual([]);
    expect(verdict.fields).toMatchObject({ cuenta: { value: '123456' }, subcuenta: { value: '7890' }, cuando: { value: 'Desde el lunes 3 de marzo' } });
    expect(plan).toEqual({
      status: 'open',
      addTags: [],
      removeTags: ['awaiting_details'],
      reply: null,
      sensitiveWarning: false,
      events: [{ type: 'details.complete', data: {} }],
    });
    expect(reply).toBeNull();
  });

  it.each([
    ['Lo que hago: abro la campaña, pulso Enviar y no pasa nada.'],
    ['Qué hago: entro en Campañas y pulso «Enviar prueba».'],
    ['Primero abro la campaña, luego pulso Enviar y no sale nada.'],
    ['Primero selecciono la lista y después le doy a programar; no se envía.'],
  ])('takes a narrated sequence of steps as how it happens: %s', (visibleText) => {
    const { verdict } = conversation(SPANISH)({ subject: 'No se envía la campaña', visibleText });
    expect(verdict.fields.como).toBeDefined();
    expect(verdict.missing.map((item) => item.id)).not.toContain('como');
  });

  it.each([['Hola, primero de todo gracias.'], ['El problema es que no llega, primero pensé que era cosa mía.']])(
    'does not take a mention of "primero" or a bare complaint for steps: %s',
    (visibleText) => {
      const { verdict } = conversation(SPANISH)({ subject: 'Consulta', visibleText });
      expect(verdict.missing.map((item) => item.id)).toContain('como');
    },
  );

  it('asks only for what is still missing, then stops after two requests', () => {
    const say = conversation(SPANISH);
    say({ subject: 'No me llegan los envíos', visibleText: 'Hola, no me llegan los envíos.' });
    const second = say({ subject: 'Re: No me llegan los envíos', visibleText: 'Mi cuenta es la 123456 y no uso subcuentas. Pasa desde ayer.' });
    expect(second.verdict.missing.map((item) => item.id)).toEqual(['que_ocurre', 'donde', 'como']);
    expect(second.plan.reply).toBe('missing_details');
    expect(listedItems(second.reply!.body)).toHaveLength(3);
    const third = say({ subject: 'Re: No me llegan los envíos', visibleText: 'Ya se lo he dicho.' });
    expect(third.plan.reply).toBeNull();
    expect(third.plan.events).toContainEqual({ type: 'details.request_limit', data: { requests: 2 } });
  });

  it.each([
    ['cuenta 123456', '123456'],
    ['Nº de cuenta: 123456', '123456'],
    ['mi número de cuenta es 123456', '123456'],
    ['Cuenta n.º 123456', '123456'],
    ['account #123456', '123456'],
    ['Account number: 123456', '123456'],
    ['Le escribo por el 123456', undefined],
    ['Mi teléfono es 600123456', undefined],
    ['subcuenta 123456', undefined],
    ['sub-cuenta 123456', undefined],
    ['cuenta 12', undefined],
    ['la cuenta 20/03/2026 vence', undefined],
  ])('reads "%s" as account number %s', (visibleText, value) => {
    const { verdict } = conversation(SPANISH)({ subject: 'Consulta', visibleText });
    expect(verdict.found.cuenta?.value).toBe(value);
  });

  it.each([
    ['subcuenta 7890', '7890'],
    ['Subcuenta nº 3', '3'],
    ['No uso subcuentas', 'No uso subcuentas'],
    ['subcuenta: ninguna', 'ninguna'], // a labelled answer: the value as written,
    ['cuenta 123456', undefined],
  ])('reads "%s" as sub-account %s', (visibleText, value) => {
    const { verdict } = conversation(SPANISH)({ subject: 'Consulta', visibleText });
    expect(verdict.found.subcuenta?.value).toBe(value);
  });

  it.each([
    ['Lo veo en Campañas > Email > Informes', 'en Campañas > Email > Informes'],
    ['En la sección de listas', 'sección'],
    ['https://app.example.com/campaigns/48213', 'https://app.example.com/campaigns/48213'],
    ['Le adjunto una captura de pantalla', undefined],
  ])('reads "%s" as where it happens: %s', (visibleText, value) => {
    const { verdict } = conversation(SPANISH)({ subject: 'Consulta', visibleText });
    expect(verdict.found.donde?.value).toBe(value);
  });

  it('asks a display problem in a design mail for the design details, client and device included', () => {
    const { verdict, reply } = conversation(SPANISH)({
      subject: 'La plantilla se ve mal',
      visibleText: 'Hola, el email de la campaña «Rebajas de marzo» se ve mal: las columnas se descuadran. Cuenta 55555.',
      attachments: [{ filename: 'captura.PNG', contentType: 'application/octet-stream', size: 20_000 }],
    });
    expect(verdict.category?.id).toBe('diseno');
    expect(verdict.found).toMatchObject({ funcionalidad: { value: 'email' }, envio_o_plantilla: { value: 'Rebajas de marzo' }, capturas: { value: 'captura.PNG' } });
    expect(verdict.missing.map((item) => item.id)).toEqual(['cuando', 'donde', 'como', 'subcuenta', 'cliente_correo', 'dispositivo', 'origen_html']);
    expect(reply!.body).toContain('- el programa de correo: con qué programa');
    expect(reply!.body).toContain('- el dispositivo: en qué dispositivo');
  });

  it('does not ask a design mail about the mail client when nothing looks wrong', () => {
    const { verdict } = conversation(SPANISH)({ subject: 'Diseño', visibleText: 'En el editor de diseño no puedo guardar la plantilla 4411.' });
    expect(verdict.category?.id).toBe('diseno');
    expect(verdict.missing.map((item) => item.id)).not.toContain('cliente_correo');
  });

  it('asks a sends-and-reports mail for the send, its date and affected addresses, with its own response time', () => {
    const { verdict, reply } = conversation(SPANISH)({
      subject: 'Mis contactos no reciben la newsletter',
      visibleText: 'Mis contactos no reciben el envío 48213. Cuenta 123456.',
    });
    expect(verdict.category).toEqual({ id: 'envios_informes', label: 'Envíos e informes' });
    expect(verdict.slaDueAt?.toISOString()).toBe('2026-03-10T17:00:00.000Z');
    expect(verdict.responseTime).toBe('8 horas laborables');
    expect(verdict.missing.map((item) => item.id)).toEqual(['que_ocurre', 'cuando', 'donde', 'como', 'subcuenta', 'envio_fecha', 'contactos_afectados']);
    expect(reply!.body).toContain('en un plazo máximo de 8 horas laborables');
  });

  it('takes the send with its date and an affected address from a later reply', () => {
    const say = conversation(SPANISH);
    say({ subject: 'Estadísticas', visibleText: 'Las estadísticas no cuadran.' });
    const { verdict } = say({ subject: 'Re: Estadísticas', visibleText: 'Es el envío 48213 del 3 de marzo; no lo recibió ana@cliente.example ni cliente@cliente.example.' });
    expect(verdict.found).toMatchObject({ envio_fecha: { value: '48213' }, contactos_afectados: { value: 'ana@cliente.example' } });
  });

  it('asks a contact import for the list and the error report', () => {
    const { verdict } = conversation(SPANISH)({ subject: 'Error al importar', visibleText: 'No puedo importar contactos, me da error.' });
    expect(verdict.category?.id).toBe('importaciones');
    expect(verdict.missing.map((item) => item.id).slice(-2)).toEqual(['lista', 'informe_importacion']);
  });

  it('warns about a password and a contact file, tags the ticket and redacts the text', () => {
    const { verdict, plan, warning } = conversation(SPANISH)({
      subject: 'Acceso',
      visibleText: 'Entren con mi usuario, contraseña: Verano2026! y miren la lista adjunta.',
      attachments: [{ filename: 'contactos.csv', contentType: 'text/csv', size: 90_000 }],
    });
    expect(verdict.redactedVisibleText).toBe('Entren con mi usuario, [redacted] y miren la lista adjunta.');
    expect(plan.addTags).toEqual(['sensitive_data', 'awaiting_details']);
    expect(plan.sensitiveWarning).toBe(true);
    expect(warning!.subject).toBe('Importante: no nos envíe datos confidenciales [#1042]');
    expect(listedItems(warning!.body)).toEqual(['- una contraseña', '- una base de datos o un fichero de contactos']);
  });

  it('notifies the requester in Spanish when the ticket is solved', () => {
    const [action] = actionsOnEnter(SPANISH, 'solved');
    expect(action).toEqual({ notify: 'requester', template: 'resuelto' });
    const rendered = renderReply({ notification: 'resuelto' }, SPANISH, SPANISH.mailboxes[0]!, { ticket_number: '1042', subject: 'No me llegan los envíos' });
    expect(rendered?.subject).toBe('Su solicitud se ha resuelto: No me llegan los envíos [#1042]');
    expect(rendered?.body).toContain('responda a este correo y la reabriremos');
  });
});

describe('support.en.yaml', () => {
  it('asks a technical request for what it lacks, then completes with a reply', () => {
    const say = conversation(ENGLISH);
    const first = say({
      subject: 'Chat widget not loading',
      visibleText: 'Hi, the chat widget stopped loading on https://shop.example.net since yesterday. Console: Uncaught TypeError: e is undefined',
    });
    expect(first.verdict.category).toEqual({ id: 'technical', label: 'Technical' });
    expect(first.verdict.responseTime).toBe('24–48 hours');
    expect(first.verdict.found).toMatchObject({ project: { value: 'https://shop.example.net' }, error_message: { value: 'Uncaught TypeError: e is undefined' } });
    expect(first.verdict.missing.map((item) => item.id)).toEqual(['steps', 'browser', 'device']);
    expect(first.reply!.subject).toBe('We received your request: Chat widget not loading [#1042]');
    expect(first.reply!.body).toContain('We will get back to you within 24–48 hours.');
    expect(listedItems(first.reply!.body).map((line) => line.split(':')[0])).toEqual(['- steps to reproduce', '- browser', '- device']);

    const second = say({ subject: 'Re: Chat widget not loading', visibleText: 'Steps:\n1. open the home page\n2. click the chat bubble\nChrome 122 on Windows 11.' });
    expect(second.verdict.missing).toEqual([]);
    expect(second.plan).toMatchObject({ status: 'open', removeTags: ['awaiting_details'], reply: null });
  });

  it.each([
    ['Billing', 'Invoice question', 'Hello, I was charged twice for March. Can you refund one?', 'billing', '24 hours'],
    ['Account', 'Cannot sign in', 'I am locked out after enabling two-factor on my account.', 'account', '24 hours'],
    ['Feature request', 'Idea', 'It would be great if the widget had a dark mode.', 'feature_request', '48 hours'],
    ['Other', 'Hello', 'Do you have a partner programme for agencies?', 'other', '48 hours'],
  ])('acknowledges a %s request with its response time and asks nothing', (_name, subject, visibleText, category, responseTime) => {
    const { verdict, plan, reply } = conversation(ENGLISH)({ subject, visibleText });
    expect(verdict.category?.id).toBe(category);
    expect(verdict.missing).toEqual([]);
    expect(plan.reply).toBe('acknowledgement');
    expect(reply!.body).toContain(`We will get back to you within ${responseTime}.`);
  });

  it('asks for a description when the message is under 10 characters', () => {
    const { verdict, reply } = conversation(ENGLISH)({ subject: 'Help', visibleText: 'Help!' });
    expect(verdict.lengthProblem).toBe('too_short');
    expect(listedItems(reply!.body)).toEqual(['- a description of the problem in a sentence or two']);
  });

  it('records a message over 5,000 characters without sending the customer back', () => {
    const { verdict, plan } = conversation(ENGLISH)({ subject: 'Question', visibleText: 'Long story. '.repeat(500) });
    expect(verdict.lengthProblem).toBe('too_long');
    expect(plan.reply).toBe('acknowledgement');
    expect(plan.status).toBeNull();
    expect(plan.events).toEqual([{ type: 'message.too_long', data: { maxLength: 5000 } }]);
  });

  it('redacts a card number and an API key and warns in English', () => {
    const { verdict, warning } = conversation(ENGLISH)({
      subject: 'Billing',
      visibleText: 'Please charge card 4111-1111-1111-1111 instead.\napi_key: sk_live_abcdefghijklmnop',
    });
    expect(verdict.redactedVisibleText).toBe('Please charge card [redacted] instead.\n[redacted]');
    expect(listedItems(warning!.body)).toEqual(['- a payment card number', '- an API key or secret']);
  });

  it('notifies the requester in English when the ticket is solved', () => {
    const action = actionsOnEnter(ENGLISH, 'solved').find((a) => 'notify' in a);
    expect(action).toEqual({ notify: 'requester', template: 'ticket_solved' });
    const rendered = renderReply({ notification: 'ticket_solved' }, ENGLISH, ENGLISH.mailboxes[0]!, { ticket_number: '77', subject: 'Widget' });
    expect(rendered?.subject).toBe('Your request is solved: Widget [#77]');
  });
});
