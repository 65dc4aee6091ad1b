import { readFileSync } from 'node:fs';
import { loadRuleSet } from '../../rules/load.js';
import type { RuleSet } from '../../rules/schema.js';

/** A rules file of the repository (e.g. `examples/soporte.es.yaml`), loaded as the daemon loads it. */
export function loadExample(path: string): RuleSet {
  const result = loadRuleSet(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8'), path);
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return result.ruleSet;
}
