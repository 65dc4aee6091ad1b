import { describe, it, expect } from 'vitest';
import { evaluateRules } from '../../rules/evaluate.js';
import { redactSensitive } from '../../rules/redact.js';
import { loadRuleSet } from '../../rules/load.js';
import type { Mailbox, RuleSet } from '../../rules/schema.js';
import type { FoundField, RuleMessage, TicketFacts } from '../../rules/verdict.js';

/** One rule set exercising every detector kind, condition, category criterion and fallback. */
const RULES = String.raw`
mailboxes:
  - address: soporte@example.com
    name: Soporte
    language: es
  - address: support@example.org
    name: Support
    language: en
    default_category: general_en
  - address: ventas@example.com
    name: Ventas
    language: es
    acknowledge: false

required_fields: [cuenta, subcuenta, dispositivo, plantilla]

fields:
  - id: cuenta
    label: { es: número de cuenta, en: account number }
    hint: { es: arriba a la izquierda de su panel, en: top left of your dashboard }
    detect:
      regex: '(?i)(?:cuenta|account)\s*(?:nº|number|no\.)?\s*[:#]?\s*(?P<value>\d{4,10})'
  - id: pedido
    label: { en: order reference }
    detect:
      regex: '(?i)order\s+#?\d{3,}'
  - id: producto
    label: { fr: produit concerné }
    detect:
      keywords: [envíos, landing page, automatización, año]
  - id: capturas
    label: { es: capturas de pantalla, en: screenshots }
    hint: { es: adjunte una imagen }
    detect:
      attachment: { content_types: [image/*], filenames: ['*.png', 'captura-??.jpg'] }
  - id: facturas
    label: { es: dos facturas, en: two invoices }
    detect:
      attachment: { filenames: ['*.pdf'], min_count: 2 }
  - id: contacto
    label: { es: dirección afectada, en: affected address }
    detect: { email: true }
  - id: fecha
    label: { es: fecha, en: date }
    detect: { date: true }
  - id: descripcion
    label: { es: descripción, en: description }
    detect: { min_length: 40 }
  - id: referencia
    label: { es: referencia, en: reference }
    detect:
      any_of:
        - regex: '(?i)ref\s*(?P<value>\d+)'
        - regex: '(?P<value>https?://\S+)'
  - id: envio
    label: { es: envío y fecha, en: send and date }
    detect:
      all_of:
        - regex: '(?i)env[ií]o\s+(?P<value>\d+)'
        - date: true
  - id: dispositivo
    label: { es: dispositivo, en: device }
    detect: { keywords: [iphone, android, windows] }
    required_when: { body_matches: '(?i)se ve mal|looks wrong' }
  - id: subcuenta
    label: { es: subcuenta, en: sub-account }
    detect: { regex: '(?i)sub-?cuenta\s*(?P<value>\d+)' }
    required_when: { field: { id: cuenta, matches: '^9' } }
  - id: plantilla
    label: { es: plantilla, en: template }
    detect: { regex: '(?i)plantilla\s*(?P<value>\d+)' }
    required_when: { category: [diseno] }

categories:
  - id: facturacion
    label: { es: Facturación, en: Billing }
    match: { tags: [facturas] }
    sla_hours: 8
  - id: etiquetas
    label: { es: Etiquetas }
    match: { tags: [etiquetas] }
    fields: [pedido, producto, capturas, cuenta]
  - id: diseno
    label: { es: Diseño, en: Design }
    match: { keywords: [diseño, design], subject_regex: '(?i)plantilla|template' }
    sla_hours: 24
    fields: [plantilla, dispositivo]
  - id: socios
    label: { es: Socios, en: Partners }
    match: { sender_domains: [partner.example] }
    response_time: { es: 2 días laborables, en: 2 business days }
  - id: ventas
    label: { es: Ventas, en: Sales }
    match: { mailboxes: [Ventas@example.com] }
    sla_hours: 1.5
  - id: sin_criterios
    label: { es: Sin criterios }
  - id: general
    label: { es: General, en: General }
    default: true
    sla_hours: 48
  - id: general_en
    label: { en: General (English) }
    sla_hours: 12

message: { min_length: 10, max_length: 2000 }

sensitive:
  - id: contrasena
    label: { es: una contraseña, en: a password }
    pattern: '(?i)(?:contraseña|password)\s*[:=]\s*[^\s<]+'
  - id: volcado
    label: { es: una base de datos, en: a database dump }
    attachment: { filenames: ['*.sql', '*.sql.gz'], content_types: [application/sql] }
  - id: tarjeta
    label: { es: un número de tarjeta, en: a card number }
    pattern: '\b(?:\d[ -]?){12,18}\d\b'
    attachment: { filenames: ['*card*'] }

templates:
  es:
    hours: '{hours} horas'
    too_short: una descripción más larga
    acknowledgement: { subject: 'Recibido [#{{ticket_number}}]', body: 'Gracias.' }
    missing_details: { subject: 'Faltan datos', body: '{{#missing}}- {{label}}{{/missing}}' }
    acknowledgement_missing_details: { subject: 'Recibido', body: '{{#missing}}- {{label}}{{/missing}}' }
    sensitive_warning: { subject: 'Cuidado', body: '{{#sensitive}}- {{label}}{{/sensitive}}' }
  en:
    acknowledgement: { subject: 'Received', body: 'Thanks.' }
    missing_details: { subject: 'Missing', body: '{{#missing}}- {{label}}{{/missing}}' }
    acknowledgement_missing_details: { subject: 'Received', body: '{{#missing}}- {{label}}{{/missing}}' }
    sensitive_warning: { subject: 'Careful', body: '{{#sensitive}}- {{label}}{{/sensitive}}' }
`;

function load(text: string): RuleSet {
  const result = loadRuleSet(text, 'evaluate.yaml');
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return result.ruleSet;
}

const ruleSet = load(RULES);
const NOW = new Date('2026-03-10T09:00:00Z');
const mailbox = (address: string): Mailbox => ruleSet.mailboxes.find((m) => m.address === address)!;
const ES = mailbox('soporte@example.com');
const EN = mailbox('support@example.org');
const VENTAS = mailbox('ventas@example.com');
const NEW: TicketFacts = { isNew: true, category: null, fields: {} };

type Attachment = RuleMessage['attachments'][number];
const file = (filename: string | null, contentType = 'application/octet-stream'): Attachment => ({ filename, contentType, size: 1000 });

function message(parts: Partial<RuleMessage> & { mailbox?: string } = {}): RuleMessage {
  return {
    subject: 'Consulta',
    visibleText: 'Hola, tengo una consulta sobre la plataforma.',
    fromAddress: 'cliente@empresa.es',
    mailbox: ES.address,
    tags: [],
    attachments: [],
    ...parts,
  };
}

function evaluate(parts: Partial<RuleMessage> = {}, box: Mailbox = ES, ticket: TicketFacts = NEW, rules: RuleSet = ruleSet) {
  return evaluateRules(message({ mailbox: box.address, ...parts }), ticket, rules, box, NOW);
}

describe('field detectors', () => {
  it.each<[string, string, Partial<RuleMessage>, FoundField | undefined]>([
    // regex
    ['cuenta', 'takes the named group of a labelled Spanish account number', { visibleText: 'Mi cuenta nº 123456, gracias' }, { value: '123456' }],
    ['cuenta', 'takes the named group of a labelled English account number', { visibleText: 'My account number: 98765.' }, { value: '98765' }],
    ['cuenta', 'finds a regex field in the subject', { subject: 'Cuenta 44556 bloqueada', visibleText: 'Ayuda' }, { value: '44556' }],
    ['cuenta', 'does not take a bare number for a labelled regex', { visibleText: 'Llamé al 123456 y nadie contestó' }, undefined],
    ['pedido', 'keeps the whole match when the regex has no value group', { visibleText: 'About ORDER #4411 please' }, { value: 'ORDER #4411' }],
    // keywords
    ['producto', 'matches a keyword without accents and in capitals', { visibleText: 'No me llegan los ENVIOS' }, { value: 'envíos' }],
    ['producto', 'matches an English phrase across a line break', { visibleText: 'our Landing\n  page is down' }, { value: 'landing page' }],
    ['producto', 'matches a keyword written with ñ', { visibleText: 'Desde principios de AÑO' }, { value: 'año' }],
    ['producto', 'does not match a keyword inside a longer word with ñ', { visibleText: 'El tamaño del logo' }, undefined],
    ['producto', 'does not match a plural of a keyword', { visibleText: 'Configuro automatizaciones' }, undefined],
    // attachment
    ['capturas', 'matches an attachment by file name glob, ignoring case', { attachments: [file('Pantalla.PNG')] }, { value: 'Pantalla.PNG' }],
    ['capturas', 'matches an attachment by content type wildcard with parameters', { attachments: [file(null, 'Image/JPEG; name=x')] }, { value: null }],
    ['capturas', 'matches "?" to exactly one character', { attachments: [file('captura-01.jpg')] }, { value: 'captura-01.jpg' }],
    ['capturas', 'does not match "?" to a missing character', { attachments: [file('captura-1.jpg')] }, undefined],
    ['capturas', 'reports the first matching attachment', { attachments: [file('notas.txt', 'text/plain'), file('a.png'), file('b.png')] }, { value: 'a.png' }],
    ['facturas', 'needs min_count matching attachments', { attachments: [file('f1.pdf')] }, undefined],
    ['facturas', 'is found with min_count matching attachments', { attachments: [file('f1.pdf'), file('x.doc'), file('F2.PDF')] }, { value: 'f1.pdf' }],
    // email
    ['contacto', 'finds another address in Spanish text', { visibleText: 'No le llegó a maria.lopez@cliente.es ayer.' }, { value: 'maria.lopez@cliente.es' }],
    ['contacto', 'finds another address in English text, without the final dot', { visibleText: 'Contact John.Doe@Example.co.uk.' }, { value: 'John.Doe@Example.co.uk' }],
    ['contacto', "ignores the sender's address and mailroom's own with a plus tag", { visibleText: 'Copio a CLIENTE@empresa.es, soporte+t12-abc@example.com y support@example.org' }, undefined],
    ['contacto', 'skips excluded addresses and finds the next one', { visibleText: 'soporte@example.com ana@otra.com' }, { value: 'ana@otra.com' }],
    // min_length
    ['descripcion', 'counts visible text with whitespace collapsed', { visibleText: `  ${'palabra '.repeat(5)}\n\n\n       ` }, undefined],
    ['descripcion', 'is found at the minimum length, with no value', { visibleText: 'x'.repeat(40) }, { value: null }],
    ['descripcion', 'does not count the subject', { subject: 's'.repeat(100), visibleText: 'corto' }, undefined],
    // any_of / all_of
    ['referencia', 'takes the first alternative of any_of that matches', { visibleText: 'ref 55 y https://x.example/a' }, { value: '55' }],
    ['referencia', 'falls through to a later alternative of any_of', { visibleText: 'ver https://x.example/a' }, { value: 'https://x.example/a' }],
    ['envio', 'needs every part of all_of and keeps the first value', { visibleText: 'El envío 123 del 3 de marzo' }, { value: '123' }],
    ['envio', 'is not found when one part of all_of is missing', { visibleText: 'El envío 123 falló' }, undefined],
  ])('%s: %s', (fieldId, _behaviour, parts, expected) => {
    expect(evaluate(parts).found[fieldId]).toEqual(expected);
  });

  it.each([
    ['desde el lunes no funciona', 'desde el lunes'],
    ['Pasó el 12/03/2026 por la tarde', '12/03/2026'],
    ['Ocurre desde el 3 de marzo', 'desde el 3 de marzo'],
    ['Fue el 5-3-26', '5-3-26'],
    ['Fecha: 2026-03-12', '2026-03-12'],
    ['Ayer fallaron', 'Ayer'],
    ['lo vi anteayer', 'anteayer'],
    ['Hoy no funciona', 'Hoy'],
    ['Esta mañana dejó de ir', 'Esta mañana'],
    ['Desde la semana pasada', 'Desde la semana pasada'],
    ['el miércoles', 'el miércoles'],
    ['a las 10:30', 'a las 10:30'],
    ['hace 3 días', 'hace 3 días'],
    ['since Monday', 'since Monday'],
    ['It started on March 12th, 2026', 'March 12th, 2026'],
    ['yesterday afternoon', 'yesterday'],
    ['Today it broke', 'Today'],
    ['last week', 'last week'],
    ['this morning', 'this morning'],
    ['around 10am', '10am'],
    ['2 days ago', '2 days ago'],
  ])('date: finds "%s" as %j', (visibleText, value) => {
    expect(evaluate({ subject: 'Problema', visibleText }).found.fecha).toEqual({ value });
  });

  it.each([
    'Tengo 3 cuentas y 12 usuarios',
    'version 1.2.3 on 192.168.1.10',
    'I may need help',
    'ahoy there',
    'No me llegan los envíos',
  ])('date: finds nothing in "%s"', (visibleText) => {
    expect(evaluate({ subject: 'Problema', visibleText }).found.fecha).toBeUndefined();
  });
});

describe('required fields and conditions', () => {
  it.each<[string, Partial<RuleMessage>, string[]]>([
    ['requires the category field for the category', { subject: 'La plantilla', visibleText: 'El diseño falla. Cuenta 123456' }, ['plantilla']],
    ['does not require a category field for another category', { visibleText: 'El diseño falla. Cuenta 123456' }, []],
    ['requires a field when another field value matches', { visibleText: 'Cuenta 987654' }, ['subcuenta']],
    ['does not require it when the value does not match', { visibleText: 'Cuenta 187654' }, []],
    ['is satisfied when the conditional field is given', { visibleText: 'Cuenta 987654, subcuenta 12' }, []],
    ['requires a field when the body matches', { visibleText: 'El correo se ve mal. Cuenta 123456' }, ['dispositivo']],
    ['is satisfied by the same mail', { visibleText: 'El correo se ve mal en Android. Cuenta 123456' }, []],
    ['lists required_fields first, then the category fields, once each', { tags: ['etiquetas'] }, ['cuenta', 'pedido', 'producto', 'capturas']],
  ])('%s', (_behaviour, parts, missing) => {
    expect(evaluate(parts).missing.map((item) => item.id)).toEqual(missing);
  });

  it('keeps fields from earlier mails: a reply that supplies the account number satisfies it', () => {
    const first = evaluate({ visibleText: 'No funciona nada de nada.' });
    expect(first.missing.map((item) => item.id)).toEqual(['cuenta']);
    const reply = evaluate({ visibleText: 'Perdón: cuenta 123456' }, ES, { isNew: false, category: first.category!.id, fields: first.fields });
    expect(reply.found).toEqual({ cuenta: { value: '123456' } });
    expect(reply.missing).toEqual([]);
    expect(reply.fields.cuenta).toEqual({ value: '123456' });
  });

  it('keeps earlier fields a reply does not repeat, and lets a new value replace an old one', () => {
    const earlier = { cuenta: { value: '111111' }, fecha: { value: 'ayer' } };
    const reply = evaluate({ visibleText: 'La cuenta correcta es cuenta 222222' }, ES, { isNew: false, category: 'general', fields: earlier });
    expect(reply.fields).toEqual({ cuenta: { value: '222222' }, fecha: { value: 'ayer' } });
    expect(reply.missing).toEqual([]);
  });
});

describe('categories and SLA', () => {
  it.each<[string, Partial<RuleMessage>, Mailbox, string | null]>([
    ['takes the first matching category (tags before keywords)', { tags: ['facturas'], subject: 'Plantilla', visibleText: 'diseño' }, ES, 'facturacion'],
    ['needs every criterion of a category (keywords and subject)', { subject: 'Hola', visibleText: 'El diseño está mal' }, ES, 'general'],
    ['matches keywords with the subject regex', { subject: 'Mi TEMPLATE', visibleText: 'design is broken' }, ES, 'diseno'],
    ['matches a sender subdomain', { fromAddress: 'ana@mail.partner.example' }, ES, 'socios'],
    ['matches the sender domain itself', { fromAddress: 'ana@partner.example' }, ES, 'socios'],
    ['does not match a domain that merely ends the same way', { fromAddress: 'ana@notpartner.example' }, ES, 'general'],
    ['matches the mailbox the mail was sent to', {}, VENTAS, 'ventas'],
    ['never matches a category without criteria; falls back to the default', {}, ES, 'general'],
    ["uses the mailbox's default category before the default one", {}, EN, 'general_en'],
  ])('%s', (_behaviour, parts, box, category) => {
    expect(evaluate(parts, box).category?.id ?? null).toBe(category);
  });

  it.each<[string, Partial<RuleMessage>, Mailbox, number | null, string | null, string | null]>([
    ['sets the SLA from the category, in the language template hours words', { tags: ['facturas'] }, ES, 8, '2026-03-10T17:00:00.000Z', '8 horas'],
    ['uses the default "{hours} h" words without a language hours text', {}, EN, 12, '2026-03-10T21:00:00.000Z', '12 h'],
    ['formats fractional hours for the language', {}, VENTAS, 1.5, '2026-03-10T10:30:00.000Z', '1,5 horas'],
    ["uses the category's own response time words", { fromAddress: 'a@partner.example' }, ES, null, null, '2 días laborables'],
    ["uses the category's response time words in English", { fromAddress: 'a@partner.example' }, EN, null, null, '2 business days'],
    ['reports no SLA without a category SLA', { tags: ['etiquetas'] }, ES, null, null, null],
  ])('%s', (_behaviour, parts, box, hours, dueAt, responseTime) => {
    const verdict = evaluate(parts, box);
    expect(verdict.slaHours).toBe(hours);
    expect(verdict.slaDueAt?.toISOString() ?? null).toBe(dueAt);
    expect(verdict.responseTime).toBe(responseTime);
  });

  it('keeps the category of an existing ticket and sets no SLA due time', () => {
    const verdict = evaluate({ tags: ['facturas'], subject: 'Plantilla', visibleText: 'diseño' }, ES, { isNew: false, category: 'socios', fields: {} });
    expect(verdict.category).toEqual({ id: 'socios', label: 'Socios' });
    expect(verdict.slaHours).toBeNull();
    expect(verdict.slaDueAt).toBeNull();
  });

  it('keeps a category the rules no longer define, labelled with its id', () => {
    const verdict = evaluate({}, ES, { isNew: false, category: 'retirada', fields: { cuenta: { value: '123456' } } });
    expect(verdict.category).toEqual({ id: 'retirada', label: 'retirada' });
    expect(verdict.missing).toEqual([]);
  });

  it('has no category without a match or default', () => {
    const bare = load('mailboxes:\n  - address: a@example.com\n    name: A\n');
    expect(evaluate({}, bare.mailboxes[0]!, NEW, bare)).toMatchObject({ category: null, slaHours: null, responseTime: null, missing: [] });
  });
});

describe('message length', () => {
  it.each<[string, string, Mailbox, TicketFacts, 'too_short' | 'too_long' | null, string | null]>([
    ['asks for a longer description when a new message is too short', '  corto   ', ES, NEW, 'too_short', 'una descripción más larga'],
    ['falls back to English words without a too_short text', 'short', EN, NEW, 'too_short', 'a longer description of the problem'],
    ['accepts a message of exactly the minimum length', 'diez letra', ES, NEW, null, null],
    ['records a too-long message without asking for anything', 'x'.repeat(2001), ES, NEW, 'too_long', null],
    ['accepts a message of exactly the maximum length', 'x'.repeat(2000), ES, NEW, null, null],
    ['does not apply limits to replies', 'ok', ES, { isNew: false, category: 'general', fields: {} }, null, null],
  ])('%s', (_behaviour, visibleText, box, ticket, problem, label) => {
    const verdict = evaluate({ visibleText }, box, ticket);
    expect(verdict.lengthProblem).toBe(problem);
    const item = verdict.missing.find((missing) => missing.id === 'message_length');
    expect(item ?? null).toEqual(label === null ? null : { id: 'message_length', label, hint: '' });
  });
});

describe('sensitive data', () => {
  it('redacts a password in the visible text and reports it in the language of the mailbox', () => {
    const verdict = evaluate({ visibleText: 'Mi contraseña: Verano2026! y la otra PASSWORD=abc' });
    expect(verdict.redactedVisibleText).toBe('Mi [redacted] y la otra [redacted]');
    expect(verdict.sensitive).toEqual([{ id: 'contrasena', label: 'una contraseña', inText: true, attachmentIndexes: [] }]);
  });

  it('reports a match in the subject, which is not part of the visible text', () => {
    const verdict = evaluate({ subject: 'password: hunter22', visibleText: 'Hi' }, EN);
    expect(verdict.sensitive).toEqual([{ id: 'contrasena', label: 'a password', inText: true, attachmentIndexes: [] }]);
    expect(verdict.redactedVisibleText).toBe('Hi');
  });

  it('reports attachments by index and combines text and attachment findings', () => {
    const verdict = evaluate({
      visibleText: 'Tarjeta 4111 1111 1111 1111',
      attachments: [file('captura.png'), file('volcado.SQL.gz'), file('my-card.jpg'), file(null, 'application/sql')],
    });
    expect(verdict.sensitive).toEqual([
      { id: 'volcado', label: 'una base de datos', inText: false, attachmentIndexes: [1, 3] },
      { id: 'tarjeta', label: 'un número de tarjeta', inText: true, attachmentIndexes: [2] },
    ]);
    expect(verdict.redactedVisibleText).toBe('Tarjeta [redacted]');
  });

  it('finds nothing in a clean mail', () => {
    const verdict = evaluate({ visibleText: 'He olvidado mi contraseña', attachments: [file('informe.pdf')] });
    expect(verdict.sensitive).toEqual([]);
    expect(verdict.redactedVisibleText).toBe('He olvidado mi contraseña');
  });

  it('detects fields on the redacted text, so no field value carries a secret', () => {
    expect(evaluate({ visibleText: 'password: ref777' }).found.referencia).toBeUndefined();
  });

  it('redacts a secret beyond the scanned prefix of a long text', () => {
    const text = `${'a '.repeat(100_000)}password: s3cret`;
    expect(redactSensitive(text, ruleSet).endsWith('a [redacted]')).toBe(true);
  });

  it('redacts stored bodies with the same patterns', () => {
    expect(redactSensitive('<p>Password: hunter2</p>', ruleSet)).toBe('<p>[redacted]</p>');
    expect(redactSensitive('nada', ruleSet)).toBe('nada');
  });

  it('leaves the text alone where a pattern matches the empty string', () => {
    const rules = load(RULES.replace("pattern: '\\b(?:\\d[ -]?){12,18}\\d\\b'", "pattern: 'x*'"));
    expect(redactSensitive('abxc', rules)).toBe('ab[redacted]c');
  });
});

describe('labels and hints', () => {
  it.each<[Mailbox, Array<{ id: string; label: string; hint: string }>]>([
    [
      ES,
      [
        { id: 'cuenta', label: 'número de cuenta', hint: 'arriba a la izquierda de su panel' },
        { id: 'pedido', label: 'order reference', hint: '' },
        { id: 'producto', label: 'produit concerné', hint: '' },
        { id: 'capturas', label: 'capturas de pantalla', hint: 'adjunte una imagen' },
      ],
    ],
    [
      EN,
      [
        { id: 'cuenta', label: 'account number', hint: 'top left of your dashboard' },
        { id: 'pedido', label: 'order reference', hint: '' },
        { id: 'producto', label: 'produit concerné', hint: '' },
        { id: 'capturas', label: 'screenshots', hint: 'adjunte una imagen' },
      ],
    ],
  ])('are in the language of %s, else English, else the first given', (box, missing) => {
    expect(evaluate({ tags: ['etiquetas'] }, box).missing).toEqual(missing);
    expect(evaluate({ tags: ['etiquetas'] }, box).category?.label).toBe('Etiquetas');
  });
});

describe('hostile input', () => {
  it.each([
    ['letters', 'a'.repeat(1_000_000)],
    ['words that start many patterns', 'a las hace cuenta envío ref https:// '.repeat(27_000)],
    ['at signs', 'a@'.repeat(500_000)],
    ['digits', '1 '.repeat(500_000)],
    ['secrets everywhere', 'password: x '.repeat(80_000)],
    ['line breaks', '\r\n'.repeat(500_000)],
  ])('evaluates a 1 MB text of %s quickly', (_shape, text) => {
    const started = performance.now();
    const verdict = evaluate({ subject: text, visibleText: `${text} cuenta 123456 ayer` });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(verdict.language).toBe('es');
  });

  it('looks only at the first 100,000 characters for fields', () => {
    const verdict = evaluate({ visibleText: `${' '.repeat(100_000)}cuenta 123456` });
    expect(verdict.found.cuenta).toBeUndefined();
  });
});
