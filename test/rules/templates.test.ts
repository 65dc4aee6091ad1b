import { describe, it, expect } from 'vitest';
import { loadRuleSet } from '../../rules/load.js';
import { renderTemplate, TEMPLATE_VARIABLES, templateProblems } from '../../rules/templates/template.js';

describe('templateProblems', () => {
  it.each([
    ['plain text', 'Hola, gracias.'],
    ['variables', '[#{{ticket_number}}] {{ subject }}'],
    ['a list with its item fields', '{{#missing}}- {{label}}{{#hint}}: {{hint}}{{/hint}}\n{{/missing}}'],
    ['a text section and its inverse', '{{#response_time}}en {{response_time}}{{/response_time}}{{^response_time}}pronto{{/response_time}}'],
  ])('accepts %s', (_case, source) => {
    expect(templateProblems(source, TEMPLATE_VARIABLES)).toEqual([]);
  });

  it.each([
    ['a lone opening brace pair', 'Hola {{subject', 'a lone "{{" or "}}"'],
    ['a lone closing brace pair', 'Hola subject}}', 'a lone "{{" or "}}"'],
    ['a tag that is not a name', 'Hola {{sub ject}}', 'is not a tag'],
    ['a section never closed', '{{#missing}}- {{label}}', '"{{#missing}}" is never closed'],
    ['a close that closes nothing', 'Hola{{/missing}}', 'closes nothing open'],
    ['crossed sections', '{{#missing}}{{#sensitive}}{{/missing}}{{/sensitive}}', 'closes nothing open'],
    ['an unknown variable', 'Hola {{nombre}}', 'unknown variable "nombre"'],
    ['a list used as text', 'Faltan: {{missing}}', '"missing" is a list'],
    ['a list item field outside its list', 'Falta {{label}}', 'unknown variable "label"'],
    ["another list's item field", '{{#sensitive}}{{hint}}{{/sensitive}}', 'unknown variable "hint"'],
  ])('reports %s', (_case, source, problem) => {
    const problems = templateProblems(source, TEMPLATE_VARIABLES);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
  });

  it('lists the known variables with an unknown one', () => {
    expect(templateProblems('{{numero}}', TEMPLATE_VARIABLES)[0]).toContain('known: ticket_number, subject');
  });
});

describe('renderTemplate', () => {
  it.each<[string, string, Parameters<typeof renderTemplate>[1], 'header' | 'body', string]>([
    ['replaces variables', 'Ticket {{ticket_number}}', { ticket_number: '12' }, 'body', 'Ticket 12'],
    ['renders a missing variable as nothing', 'A{{customer_name}}B', {}, 'body', 'AB'],
    ['repeats a list section per item', '{{#missing}}[{{label}}]{{/missing}}', { missing: [{ label: 'a', hint: '' }, { label: 'b', hint: '' }] }, 'body', '[a][b]'],
    ['shows an inverted section for an empty list', '{{^missing}}nada{{/missing}}', { missing: [] }, 'body', 'nada'],
    ['normalises line breaks in a body value', '{{subject}}', { subject: 'a\r\nb\rc' }, 'body', 'a\nb\nc'],
    ['removes control characters from a body value', '{{subject}}', { subject: 'a\u0000b\u0007c\td' }, 'body', 'abc\td'],
    ['turns line breaks in a header value into one space', 'Re: {{subject}}', { subject: 'a\r\n\r\nb' }, 'header', 'Re: a b'],
  ])('%s', (_case, source, values, target, expected) => {
    expect(renderTemplate(source, values, target)).toBe(expected);
  });
});

describe('template problems in a rules file', () => {
  const rules = (templates: string) => `mailboxes:
  - address: soporte@example.com
    name: Soporte
    language: es
status:
  on_enter:
    solved:
      - notify: requester
        template: resuelto
templates:
  es:
${templates}`;
  const GOOD = `    acknowledgement: { subject: 'Recibido [#{{ticket_number}}]', body: 'Gracias' }
    missing_details: { subject: 'Faltan', body: '{{#missing}}- {{label}}{{/missing}}' }
    acknowledgement_missing_details: { subject: 'Recibido', body: 'Gracias' }
    sensitive_warning: { subject: 'Cuidado', body: 'Cuidado' }
    notifications:
      resuelto: { subject: 'Resuelto', body: 'Resuelto' }
`;

  it('accepts good templates', () => {
    expect(loadRuleSet(rules(GOOD), 'rules.yaml').ok).toBe(true);
  });

  it.each([
    ['a syntax error in a subject', "'Recibido [#{{ticket_number}}]'", "'Recibido {{ticket_number'", 12, 'templates.es.acknowledgement.subject', 'a lone "{{"'],
    ['an unknown variable in a body', "'{{#missing}}- {{label}}{{/missing}}'", "'{{#missing}}- {{etiqueta}}{{/missing}}'", 13, 'templates.es.missing_details.body', 'unknown variable "etiqueta"'],
    ['an unknown variable in a notification', "resuelto: { subject: 'Resuelto'", "resuelto: { subject: 'Resuelto {{fecha}}'", 17, 'templates.es.notifications.resuelto.subject', 'unknown variable "fecha"'],
    ['a notify action without its template', 'resuelto: {', 'cerrado: {', 9, 'status.on_enter.solved[0].template', 'no notification template "resuelto" for language "es"'],
  ])('rejects %s with its line and path', (_case, from, to, line, path, message) => {
    const result = loadRuleSet(rules(GOOD.replace(from, to)), 'rules.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ line, path });
    expect(result.problems[0]!.message).toContain(message);
  });

  it('rejects a mailbox language without templates', () => {
    const result = loadRuleSet(rules(GOOD).replace('    language: es', '    language: en'), 'rules.yaml');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((p) => [p.path, p.line])).toContainEqual(['mailboxes[0].language', 4]);
  });
});
