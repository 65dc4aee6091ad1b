import { readFile } from 'node:fs/promises';
import { formatProblem, loadRuleSet, type RuleProblem } from '../rules/load.js';
import type { RuleSet } from '../rules/schema.js';
import { AppError } from './errors.js';
import type { Logger } from './logger.js';

/** How the last load of the rules file went (the first is the one at start-up, always accepted). */
export interface RulesReload {
  ok: boolean;
  at: Date;
  /** Why the file was rejected, every problem as `file:line: path message`; null when accepted. */
  error: string | null;
}

/** The rules in force, their file, and how the last edit of it went: what the console and the API show. */
export interface RulesView {
  file: string;
  ruleSet: RuleSet;
  lastReload: RulesReload;
  problems: RuleProblem[];
}

export interface RulesStore {
  current(): RuleSet;
  /** Problems of the last reload that was rejected; empty when the file in force is the file on disk. */
  lastProblems(): RuleProblem[];
  lastReload(): RulesReload;
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
  let loadedAt = new Date();
  return {
    current: () => ruleSet,
    lastProblems: () => problems,
    lastReload: () => ({
      ok: problems.length === 0,
      at: loadedAt,
      error: problems.length === 0 ? null : problems.map((p) => `${p.file}:${p.line ?? '?'}: ${p.path} ${p.message}`).join('; '),
    }),
    async reload() {
      try {
        const text = await readFile(file, 'utf8');
        const result = loadRuleSet(text, file);
        if (!result.ok) {
          problems = result.problems;
          loadedAt = new Date();
          logger.error({ event: 'rules.rejected', file, problems: result.problems }, 'rules file rejected; keeping the last good rules');
          return false;
        }
        ruleSet = result.ruleSet;
        problems = [];
        loadedAt = new Date();
        logger.info({ event: 'rules.loaded', file, mailboxes: ruleSet.mailboxes.length }, 'rules reloaded');
        return true;
      } catch (err) {
        problems = [{ file, line: null, column: null, path: '', message: (err as Error).message }];
        loadedAt = new Date();
        logger.error({ event: 'rules.rejected', file, err }, 'rules file unreadable; keeping the last good rules');
        return false;
      }
    },
  };
}
