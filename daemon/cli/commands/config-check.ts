import type { Command } from 'commander';
import { formatProblem, loadRuleSet, type RuleProblem } from '../../../rules/load.js';
import { readFile } from 'node:fs/promises';
import { redactConfig, startProblems } from '../../config.js';
import { printJson, type CliContext } from '../context.js';

export function registerConfigCommands(program: Command, ctx: CliContext, setExit: (code: number) => void): void {
  const config = program.command('config').description('configuration');
  config
    .command('check')
    .description('validate the environment and the rules file; print the resolved config (secrets hidden)')
    .option('--json', 'machine-readable output (see README)')
    .action(async (options: { json?: boolean }) => {
      const envProblems = [...ctx.configProblems, ...(ctx.config ? startProblems(ctx.config) : [])];
      let ruleProblems: RuleProblem[] = [];
      let mailboxes: string[] = [];
      if (ctx.config) {
        const file = ctx.config.rulesFile;
        try {
          const result = loadRuleSet(await readFile(file, 'utf8'), file);
          if (result.ok) mailboxes = result.ruleSet.mailboxes.map((m) => m.address);
          else ruleProblems = result.problems;
        } catch (err) {
          ruleProblems = [{ file, line: null, column: null, path: '', message: `cannot read: ${(err as Error).message}` }];
        }
      }
      const ok = envProblems.length === 0 && ruleProblems.length === 0;
      if (!ok) setExit(1);
      if (options.json) {
        printJson(ctx, {
          ok,
          environment: envProblems,
          rules: ruleProblems,
          config: ctx.config ? redactConfig(ctx.config) : null,
          mailboxes,
        });
        return;
      }
      for (const problem of envProblems) ctx.io.err(`environment: ${problem}\n`);
      for (const problem of ruleProblems) ctx.io.err(`${formatProblem(problem)}\n`);
      if (ok) {
        ctx.io.out(`${JSON.stringify(redactConfig(ctx.config!), null, 2)}\n`);
        ctx.io.out(`ok: ${mailboxes.length} mailbox(es): ${mailboxes.join(', ')}\n`);
      }
    });
}
