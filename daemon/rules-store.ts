import { readFile } from 'node:fs/promises';
import { formatProblem, loadRuleSet, type RuleProblem } from '../rules/load.js';
import type { RuleSet } from '../rules/schema.js';
import { AppError } from './errors.js';
import type { Logger } from './logger.js';

export interface RulesStore {
  current(): RuleSet;
  /** Problems of the last reload that was rejected; empty when the file in force is the file on disk. */
  lastProblems(): RuleProblem[];
  /** Re-reads the file; a broken edit is rejected and the last good rules stay in force. */
  reload(): Promise<boolean>;
}

/** Reads and validates a rules file, throwing CONFIG_INVALID with every problem listed. */
export async function readRulesFile(file: string): Promise<RuleSet> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new AppError('CONFIG_INVALID', `${file}: cannot read rules file (${(err as Error).message})`);
  }
  const result = loadRuleSet(text, file);
  if (!result.ok) throw new AppError('CONFIG_INVALID', result.problems.map(formatProblem).join('\n'));
  return result.ruleSet;
}

export async function createRulesStore(file: string, logger: Logger): Promise<RulesStore> {
  let ruleSet = await readRulesFile(file);
  let problems: RuleProblem[] = [];
  return {
    current: () => ruleSet,
    lastProblems: () => problems,
    async reload() {
      try {
        const text = await readFile(file, 'utf8');
        const result = loadRuleSet(text, file);
        if (!result.ok) {
          problems = result.problems;
          logger.error({ event: 'rules.rejected', file, problems: result.problems }, 'rules file rejected; keeping the last good rules');
          return false;
        }
        ruleSet = result.ruleSet;
        problems = [];
        logger.info({ event: 'rules.loaded', file, mailboxes: ruleSet.mailboxes.length }, 'rules reloaded');
        return true;
      } catch (err) {
        problems = [{ file, line: null, column: null, path: '', message: (err as Error).message }];
        logger.error({ event: 'rules.rejected', file, err }, 'rules file unreadable; keeping the last good rules');
        return false;
      }
    },
  };
}
