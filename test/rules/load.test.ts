import { describe, expect, it } from 'vitest';
import { formatProblem, loadRuleSet } from '../../rules/load.js';
import { resolveRecipient } from '../../rules/mailboxes.js';

const GOOD = `mailboxes:
  - address: Soporte@Example.com
    name: Soporte
    language: es
  - address: help@example.org
    name: Help
`;

describe('loading the rules file', () => {
  it('accepts a valid file, lower-cases addresses and fills defaults', () => {
    const result = loadRuleSet(GOOD, 'rules.yaml');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.ruleSet.mailboxes.map((m) => [m.address, m.language])).toEqual([
      ['soporte@example.com', 'es'],
      ['help@example.org', 'en'],
    ]);
    expect(result.ruleSet.threading.stranger_reply).toBe('new_ticket');
  });

  it.each([
    ['an unknown key, at the key', 'mailboxes:\n  - address: a@example.com\n    name: A\n    lenguaje: es\n', 4, 5, 'mailboxes[0]', 'Unrecognized key: "lenguaje"'],
    ['a bad address, at the value', 'mailboxes:\n  - address: not-an-address\n    name: A\n', 2, 14, 'mailboxes[0].address', 'a plain address'],
    ['a plus in a mailbox address', 'mailboxes:\n  - address: a+b@example.com\n    name: A\n', 2, 14, 'mailboxes[0].address', 'without "+"'],
    ['a missing section', 'threading:\n  stranger_reply: append\n', 1, 1, 'mailboxes', 'expected array'],
    ['an invalid enum value', 'mailboxes:\n  - address: a@example.com\n    name: A\nthreading:\n  stranger_reply: merge\n', 5, 19, 'threading.stranger_reply', 'new_ticket'],
    ['a duplicate mailbox', 'mailboxes:\n  - address: a@example.com\n    name: A\n  - address: A@example.com\n    name: B\n', 4, 14, 'mailboxes[1].address', 'duplicate mailbox'],
  ])('rejects %s with its line, column, path and reason', (_name, text, line, column, path, reason) => {
    const result = loadRuleSet(text, 'rules.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const problem = result.problems[0]!;
    expect({ line: problem.line, column: problem.column, path: problem.path }).toEqual({ line, column, path });
    expect(problem.message).toContain(reason);
    expect(formatProblem(problem)).toBe(`rules.yaml:${line}:${column}: ${path}: ${problem.message}`);
  });

  it('reports YAML syntax errors with their position', () => {
    const result = loadRuleSet('mailboxes:\n  - address: a@example.com\n   name: [unclosed\n', 'rules.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0]!.line).not.toBeNull();
  });

  it('lists every problem, not only the first', () => {
    const result = loadRuleSet('mailboxes:\n  - address: bad\n    name: ""\n    extra: 1\n', 'rules.yaml');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.length).toBeGreaterThanOrEqual(3);
  });
});

describe('recipients mailroom accepts', () => {
  const ruleSet = (loadRuleSet(GOOD, 'rules.yaml') as { ok: true; ruleSet: import('../../rules/schema.js').RuleSet }).ruleSet;
  it.each([
    ['soporte@example.com', 'mailbox', null],
    ['SOPORTE@EXAMPLE.COM', 'mailbox', null],
    ['soporte+t1000-abcdefghij@example.com', 'mailbox', 't1000-abcdefghij'],
    ['help+billing@example.org', 'mailbox', 'billing'],
    ['bounces+d5-abcdefghij@example.com', 'bounce', null],
    ['bounces+d5-abcdefghij@example.org', 'bounce', null],
  ])('accepts %s as a %s', (address, kind, detail) => {
    const match = resolveRecipient(ruleSet, address);
    expect(match?.kind).toBe(kind);
    if (match?.kind === 'mailbox') expect(match.detail).toBe(detail);
  });

  it.each(['nadie@example.com', 'soporte@example.net', 'bounces@example.com', 'bounces+x@elsewhere.com', 'not-an-address', '@example.com'])(
    'refuses %s',
    (address) => {
      expect(resolveRecipient(ruleSet, address)).toBeNull();
    },
  );
});
