import { describe, it, expect } from 'vitest';
import { loadRuleSet } from '../../rules/load.js';
import type { RuleSet } from '../../rules/schema.js';
import { renderReply, templateValuesFor } from '../../rules/templates/render-reply.js';
import type { Verdict } from '../../rules/verdict.js';

function load(text: string): RuleSet {
  const result = loadRuleSet(text, 'render.yaml');
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return result.ruleSet;
}

const ruleSet = load(`
mailboxes:
  - address: soporte@example.com
    name: Soporte Example
    language: es
templates:
  es:
    acknowledgement:
      subject: 'Recibido: {{subject}} [#{{ticket_number}}]'
      body: "Hola{{#customer_name}} {{customer_name}}{{/customer_name}}: solicitud {{ticket_number}} ({{category}}). Plazo: {{response_time}}{{^response_time}}pronto{{/response_time}}.\\n{{mailbox_name}} <{{mailbox_address}}>"
    missing_details:
      subject: 'Faltan datos'
      body: "Necesitamos:\\n{{#missing}}- {{label}}{{#hint}}: {{hint}}{{/hint}}\\n{{/missing}}Gracias."
    acknowledgement_missing_details:
      subject: 'Recibido: {{subject}}'
      body: "{{#missing}}- {{label}}: {{hint}}\\n{{/missing}}"
    sensitive_warning:
      subject: 'Cuidado [#{{ticket_number}}]'
      body: "{{#sensitive}}- {{label}}\\n{{/sensitive}}"
    notifications:
      resuelto:
        subject: 'Resuelta: {{subject}}'
        body: 'Estado: {{status}}'
`);
const mailbox = ruleSet.mailboxes[0]!;

const verdict: Verdict = {
  language: 'es',
  category: { id: 'envios', label: 'Envíos e informes' },
  slaHours: 8,
  slaDueAt: new Date('2026-03-10T17:00:00Z'),
  responseTime: '8 horas',
  found: {},
  fields: {},
  missing: [
    { id: 'cuenta', label: 'el número de cuenta', hint: 'arriba a la izquierda de su panel' },
    { id: 'cuando', label: 'cuándo empezó', hint: '' },
  ],
  lengthProblem: null,
  sensitive: [{ id: 'contrasena', label: 'una contraseña', inText: true, attachmentIndexes: [] }],
  redactedVisibleText: '',
};

describe('renderReply', () => {
  it('fills the variables, with the mailbox name and address by default', () => {
    const values = templateValuesFor(verdict, { ticket_number: '1042', subject: 'No llegan', customer_name: 'Ana' });
    expect(renderReply('acknowledgement', ruleSet, mailbox, values)).toEqual({
      subject: 'Recibido: No llegan [#1042]',
      body: 'Hola Ana: solicitud 1042 (Envíos e informes). Plazo: 8 horas.\nSoporte Example <soporte@example.com>',
    });
  });

  it('shows the fallback text when there is no response time', () => {
    const values = templateValuesFor({ ...verdict, responseTime: null }, { ticket_number: '7', subject: 'x' });
    expect(renderReply('acknowledgement', ruleSet, mailbox, values)?.body).toContain('Plazo: pronto.');
  });

  it('lists each missing item with its hint, and the label alone without one', () => {
    const values = templateValuesFor(verdict, { ticket_number: '1042', subject: 'No llegan' });
    expect(renderReply('missing_details', ruleSet, mailbox, values)?.body).toBe(
      'Necesitamos:\n- el número de cuenta: arriba a la izquierda de su panel\n- cuándo empezó\nGracias.',
    );
  });

  it('lists sensitive findings', () => {
    const values = templateValuesFor(verdict, { ticket_number: '9', subject: 'x' });
    expect(renderReply('sensitive_warning', ruleSet, mailbox, values)).toEqual({ subject: 'Cuidado [#9]', body: '- una contraseña\n' });
  });

  it.each([
    ['CRLF', 'Hola\r\nBcc: victima@example.net'],
    ['LF', 'Hola\nBcc: victima@example.net'],
    ['CR', 'Hola\rBcc: victima@example.net'],
    ['a Unicode line separator', 'Hola\u2028Bcc: victima@example.net'],
  ])("never lets %s in the customer's subject break the rendered subject", (_kind, subject) => {
    const rendered = renderReply('acknowledgement', ruleSet, mailbox, templateValuesFor(verdict, { ticket_number: '5', subject }));
    expect(rendered?.subject).toBe('Recibido: Hola Bcc: victima@example.net [#5]');
    expect(rendered?.subject).not.toMatch(/[\r\n\u2028]/);
  });

  it.each<[string, Parameters<typeof renderReply>[0], string]>([
    ['a subject template without the token', 'missing_details', '[#1042] Faltan datos'],
    ['a combined reply', 'acknowledgement_missing_details', '[#1042] Recibido: No llegan'],
    ['a notification', { notification: 'resuelto' }, '[#1042] Resuelta: No llegan'],
  ])('prefixes the ticket token to %s', (_case, kind, subject) => {
    const values = templateValuesFor(verdict, { ticket_number: '1042', subject: 'No llegan', status: 'solved' });
    expect(renderReply(kind, ruleSet, mailbox, values)?.subject).toBe(subject);
  });

  it("does not repeat the token a customer's reply subject already carries", () => {
    const values = templateValuesFor(verdict, { ticket_number: '1042', subject: 'Re: No llegan [#1042]' });
    expect(values.subject).toBe('Re: No llegan');
    expect(renderReply('acknowledgement', ruleSet, mailbox, values)?.subject).toBe('Recibido: Re: No llegan [#1042]');
  });

  it('renders a notification body with the given status', () => {
    const values = templateValuesFor(verdict, { ticket_number: '3', subject: 's', status: 'solved' });
    expect(renderReply({ notification: 'resuelto' }, ruleSet, mailbox, values)?.body).toBe('Estado: solved');
  });

  it.each([
    ['a rule set without templates', load('mailboxes:\n  - address: a@example.com\n    name: A\n    language: es\n'), 'acknowledgement' as const],
    ['an unknown notification', ruleSet, { notification: 'desconocida' }],
    ['a notification named like an object property', ruleSet, { notification: 'constructor' }],
  ])('returns null for %s', (_case, rules, kind) => {
    expect(renderReply(kind, rules, rules.mailboxes[0]!, { ticket_number: '1', subject: 's' })).toBeNull();
  });
});

describe('templateValuesFor', () => {
  it('carries the verdict and the ticket facts over into template values', () => {
    expect(templateValuesFor(verdict, { ticket_number: '12', subject: '  Asunto  ', customer_email: 'ana@cliente.es' })).toEqual({
      ticket_number: '12',
      subject: 'Asunto',
      customer_email: 'ana@cliente.es',
      category: 'Envíos e informes',
      response_time: '8 horas',
      missing: [
        { label: 'el número de cuenta', hint: 'arriba a la izquierda de su panel' },
        { label: 'cuándo empezó', hint: '' },
      ],
      sensitive: [{ label: 'una contraseña' }],
    });
  });

  it("clips a very long customer's subject", () => {
    expect(templateValuesFor(verdict, { ticket_number: '1', subject: 'x'.repeat(10_000) }).subject).toHaveLength(200);
  });
});
