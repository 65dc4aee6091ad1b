import { loadExample } from '../helpers/examples.js';
import { describe, expect, it } from 'vitest';
import { findLabelledAnswers } from '../../rules/checks/labelled.js';
import { evaluateRules } from '../../rules/evaluate.js';
import { loadRuleSet } from '../../rules/load.js';
import type { RuleSet } from '../../rules/schema.js';
import type { RuleMessage } from '../../rules/verdict.js';

const NOW = new Date('2026-12-03T09:00:00Z');

const SPANISH = loadExample('examples/soporte.es.yaml');
const ENGLISH = loadExample('examples/support.en.yaml');

const found = (ruleSet: RuleSet, visibleText: string) => {
  const message: RuleMessage = { subject: 'Consulta', visibleText, fromAddress: 'ana@cliente.es', mailbox: ruleSet.mailboxes[0]!.address, tags: [], attachments: [] };
  return evaluateRules(message, { isNew: true, category: null, fields: {} }, ruleSet, ruleSet.mailboxes[0]!, NOW).found;
};

describe('answers written under a field label', () => {
  it.each([
    ['es, one line', SPANISH, 'Cómo: creé el envío, seleccioné la lista Clientes y pulsé Enviar.', 'como', 'creé el envío, seleccioné la lista Clientes y pulsé Enviar'],
    ['es, label alone then the value', SPANISH, 'Cómo\ncreé el envío, seleccioné la lista Clientes y pulsé Enviar', 'como', 'creé el envío, seleccioné la lista Clientes y pulsé Enviar'],
    ['es, alias, no accents, capitals', SPANISH, 'PASOS: abro la campaña y pulso enviar', 'como', 'abro la campaña y pulso enviar'],
    ['es, question form with a bullet', SPANISH, '- ¿Dónde?: en la pantalla de informes', 'donde', 'en la pantalla de informes'],
    ['es, "qué pasa" for "qué ocurre"', SPANISH, 'Qué pasa: no llegan los correos', 'que_ocurre', 'no llegan los correos'],
    ['es, English label in the Spanish file', SPANISH, 'When: last Monday around ten', 'cuando', 'last Monday around ten'],
    ['es, an article before the label', SPANISH, 'El número de cuenta: 123456.', 'cuenta', '123456'],
    ['es, numbered list of answers', SPANISH, '1. Cuándo: ayer\n2. Dónde: en Campañas', 'donde', 'en Campañas'],
    ['en, one line', ENGLISH, 'Steps: open the home page, wait ten seconds, the bubble never appears.', 'steps', 'open the home page, wait ten seconds, the bubble never appears'],
    ['en, label alone then the value', ENGLISH, 'Browser\nthe one that came with the laptop', 'browser', 'the one that came with the laptop'],
    ['en, alias "os"', ENGLISH, 'OS: the latest one', 'device', 'the latest one'],
  ])('%s', (_name, ruleSet, text, fieldId, value) => {
    expect(found(ruleSet, text)[fieldId]).toEqual({ value });
  });

  it.each([
    ['an empty value', SPANISH, 'Cómo:\n\n', 'como'],
    ['punctuation only', SPANISH, 'Cuándo: ¿?', 'cuando'],
    ['a label inside a sentence', SPANISH, 'Le escribo para decirle cómo: pues no lo sé', 'como'],
    ['quoted history', SPANISH, '> Cómo: creé el envío', 'como'],
    ['our own request quoted back unmarked', SPANISH, '- cómo ocurre: los pasos que sigue hasta que aparece el problema, uno por línea', 'como'],
    ['a written line for an attachment-only field', SPANISH, 'Capturas de pantalla: se las mando luego', 'capturas'],
    ['the date line of a quoted header block', SPANISH, 'Gracias\n\nDe: Soporte <soporte@example.com>\nFecha: lunes, 3 de marzo de 2026\nAsunto: Re: consulta', 'cuando'],
  ])('not from %s', (_name, ruleSet, text, fieldId) => {
    // the labelled reading alone: a field's own detector may still find it in the text
    expect(findLabelledAnswers(ruleSet.fields, text).get(fieldId)).toBeUndefined();
  });

  it.each([
    ['bare labels with blank lines between them', 'día\n\n'.repeat(200_000)],
    ['bare labels, one per line', 'url\n'.repeat(250_000)],
    ['labels with an empty value', 'Cuándo:\n\n'.repeat(100_000)],
  ])('reads 1 MB of %s quickly: each line is looked at a bounded number of times', (_shape, text) => {
    const started = performance.now();
    found(SPANISH, text);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('never takes a label followed by another label as its value', () => {
    const result = findLabelledAnswers(SPANISH.fields, 'Cuándo:\nDónde: en Informes');
    expect(result.get('cuando')).toBeUndefined();
    expect(result.get('donde')).toEqual({ value: 'en Informes' });
  });
});

describe('labels and aliases in the rules file', () => {
  it('rejects an alias that already names another field, with its place in the file', () => {
    const yaml = [
      'mailboxes: [{ address: soporte@example.com, name: Soporte, language: es }]',
      'fields:',
      '  - id: cuenta',
      '    label: { es: cuenta }',
      '    detect: { min_length: 1 }',
      '  - id: subcuenta',
      '    label: { es: subcuenta }',
      '    aliases: { es: [sub-cuenta, Cuenta] }',
      '    detect: { min_length: 1 }',
    ].join('\n');
    const result = loadRuleSet(yaml, 'rules.yaml');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.map((p) => [p.line, p.path, p.message])).toEqual([[8, 'fields[1].aliases.es[1]', '"Cuenta" already names field "cuenta": a labelled answer could not tell them apart']]);
  });
});

describe('template values per kind of mail', () => {
  const withTemplates = (notification: string, warning = 'Cuidado') =>
    [
      'mailboxes: [{ address: soporte@example.com, name: Soporte, language: es }]',
      'templates:',
      '  es:',
      '    acknowledgement: { subject: a, body: "{{#sensitive_notice}}{{sensitive_notice}}{{/sensitive_notice}}" }',
      '    missing_details: { subject: m, body: m }',
      '    acknowledgement_missing_details: { subject: am, body: am }',
      `    sensitive_warning: { subject: s, body: "${warning}" }`,
      `    notifications: { aviso: { subject: n, body: "${notification}" } }`,
    ].join('\n');

  it('accepts the values every kind has: a notification greets the customer and lists what is missing', () => {
    expect(loadRuleSet(withTemplates('Hola, {{customer_name}} ({{customer_email}}): {{#missing}}{{label}}{{/missing}} {{category}} {{status}}'), 'r.yaml').ok).toBe(true);
  });

  it.each([
    ['sensitive findings in a notification', withTemplates('{{#sensitive}}{{label}}{{/sensitive}}'), 'templates.es.notifications.aviso.body', '"sensitive" has no value in this kind of mail'],
    ['the embedded notice in the warning that goes alone', withTemplates('x', '{{sensitive_notice}}'), 'templates.es.sensitive_warning.body', '"sensitive_notice" has no value in this kind of mail'],
  ])('rejects %s, with its place and reason', (_name, yaml, path, message) => {
    const result = loadRuleSet(yaml, 'r.yaml');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.map((p) => `${p.path}: ${p.message.split(';')[0]}`)).toEqual([`${path}: ${message}`]);
  });
});
