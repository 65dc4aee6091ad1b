import type { Command } from 'commander';
import { formatProblem, loadRuleSet, type RuleProblem } from '../../../rules/load.js';
import { readFile } from 'node:fs/promises';
import { redactConfig, startProblems } from '../../config.js';
import { checkPortsFree } from '../../listen-check.js';
import { readApiTokens } from '../../http/api/tokens-file.js';
import { checkTlsFiles } from '../../tls-files.js';
import { printJson, type CliContext } from '../context.js';

export function registerConfigCommands(program: Command, ctx: CliContext, setExit: (code: number) => void): void {
  const config = program.command('config').description('configuration');
  config
    .command('check')
    .description('validate the environment, the rules file and the TLS files, and that the ports are free; print the resolved config (secrets hidden)')
    .option('--json', 'machine-readable output (see README)')
    .action(async (options: { json?: boolean }) => {
      // The API tokens file is read at start; a broken one stops it (CONFIG_INVALID), so say so here.
      const tokenProblems = ctx.config ? await readApiTokens(ctx.config).then(() => [], (err: Error) => [err.message]) : [];
      const envProblems = [...ctx.configProblems, ...(ctx.config ? startProblems(ctx.config) : []), ...tokenProblems];
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
      // What start would hit next: the TLS files, then the ports (bound and closed again at once).
      const [tlsProblems, portProblems] = ctx.config ? await Promise.all([checkTlsFiles(ctx.config.smtp.tls), checkPortsFree(ctx.config)]) : [[], []];
      const ok = envProblems.length === 0 && ruleProblems.length === 0 && tlsProblems.length === 0 && portProblems.length === 0;
      if (!ok) setExit(1);
      if (options.json) {
        printJson(ctx, {
          ok,
          environment: envProblems,
          rules: ruleProblems,
          config: ctx.config ? redactConfig(ctx.config) : null,
          mailboxes,
          tls: tlsProblems,
          ports: portProblems,
        });
        return;
      }
      for (const problem of envProblems) ctx.io.err(`environment: ${problem}\n`);
      for (const problem of ruleProblems) ctx.io.err(`${formatProblem(problem)}\n`);
      for (const problem of tlsProblems) ctx.io.err(`tls: ${problem}\n`);
      for (const problem of portProblems) ctx.io.err(`ports: ${problem}\n`);
      if (ok) {
        ctx.io.out(`${JSON.stringify(redactConfig(ctx.config!), null, 2)}\n`);
        ctx.io.out(`ok: ${mailboxes.length} mailbox(es): ${mailboxes.join(', ')}\n`);
      }
    });
}
