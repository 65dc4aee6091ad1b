import { describe, expect, it } from 'vitest';
import { loadRuleSet } from '../../rules/load.js';
import { isAgent } from '../../rules/mailboxes.js';

const rulesWith = (lines: string[]) =>
  loadRuleSet(['mailboxes:', '  - address: soporte@example.com', '    name: Soporte', '    language: es', ...lines].join('\n'), 'rules.yaml');

describe('agents in the rules file', () => {
  it('knows agents by address or by domain, globally and per mailbox, ignoring case', () => {
    const result = rulesWith(['    agents: [Ana@Equipo.example.net]', 'agents: ["@guardia.example.org"]']);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const mailbox = result.ruleSet.mailboxes[0]!;
    expect(isAgent(result.ruleSet, mailbox, 'ana@equipo.example.net')).toBe(true);
    expect(isAgent(result.ruleSet, mailbox, 'Luis@Guardia.example.org')).toBe(true);
    expect(isAgent(result.ruleSet, mailbox, 'luis@sub.guardia.example.org')).toBe(false);
    expect(isAgent(result.ruleSet, mailbox, 'ana@equipo.example.net.evil.com')).toBe(false);
    expect(isAgent(result.ruleSet, mailbox, 'ana@cliente.es')).toBe(false);
  });

  it("rejects mailroom's own addresses as agents, with the line of each", () => {
    const result = rulesWith(['agents:', '  - soporte@example.com', '  - "@example.com"', '  - bounces@example.com', '  - ana@example.com']);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.map((p) => [p.line, p.path])).toEqual([
      [6, 'agents[0]'],
      [7, 'agents[1]'],
      [8, 'agents[2]'],
    ]);
    const bad = rulesWith(['agents: ["not an address"]']);
    expect(!bad.ok && bad.problems.map((p) => [p.line, p.path, p.message])).toEqual([[5, 'agents[0]', 'an address such as "ana@example.com", or "@example.com" for a whole domain']]);
  });
});
