import type { Command } from 'commander';
import { formatProblem, loadRuleSet, type RuleProblem } from '../../../rules/load.js';
import type { RuleSet } from '../../../rules/schema.js';
import { AppError } from '../../errors.js';
import { dryRunRules, type RulesDryRunReport } from '../../reports/rules-dry-run.js';
import { printJson, type CliContext } from '../context.js';

async function loadFile(ctx: CliContext, file: string): Promise<{ ok: true; ruleSet: RuleSet } | { ok: false; problems: RuleProblem[] }> {
  let text: string;
  try {
    text = (await ctx.readFile(file)).toString('utf8');
  } catch (err) {
    return { ok: false, problems: [{ file, line: null, column: null, path: '', message: `cannot read: ${(err as Error).message}` }] };
  }
  return loadRuleSet(text, file);
}

export function registerRulesCommands(program: Command, ctx: CliContext, setExit: (code: number) => void): void {
  const rules = program.command('rules').description("check and try the admins' rules file");
  const defaultFile = () => ctx.config?.rulesFile ?? null;

  rules
    .command('check')
    .description('validate a rules file (default: MAILROOM_CONFIG); exit 1 with every problem')
    .argument('[file]', 'rules YAML file')
    .option('--json', 'machine-readable output (see README)')
    .action(async (fileArg: string | undefined, options: { json?: boolean }) => {
      const file = fileArg ?? defaultFile();
      if (!file) throw new AppError('USAGE', 'no rules file: give FILE or set MAILROOM_CONFIG');
      const result = await loadFile(ctx, file);
      if (!result.ok) setExit(1);
      if (options.json) {
        printJson(ctx, result.ok ? { ok: true, file, problems: [], summary: summarize(result.ruleSet) } : { ok: false, file, problems: result.problems, summary: null });
        return;
      }
      if (!result.ok) {
        for (const problem of result.problems) ctx.io.err(`${formatProblem(problem)}\n`);
        return;
      }
      const s = summarize(result.ruleSet);
      ctx.io.out(`${file}: ok: ${s.mailboxes.length} mailbox(es), ${s.categories.length} categories, ${s.fields.length} fields, templates for ${s.languages.join(', ') || 'no language'}\n`);
    });

  rules
    .command('test')
    .description('show what the daemon would do with a message: as the first mail of a new ticket, or as a reply on ticket N')
    .argument('<message>', '.eml file')
    .option('--config <file>', 'rules file to try (default: MAILROOM_CONFIG)')
    .option('--ticket <number>', 'an existing ticket the message replies to, read from the database')
    .option('--number <number>', 'the number to show for a new ticket', '1000')
    .option('--json', 'machine-readable output (see README)')
    .action(async (messageFile: string, options: { config?: string; ticket?: string; number: string; json?: boolean }) => {
      const file = options.config ?? defaultFile();
      if (!file) throw new AppError('USAGE', 'no rules file: give --config FILE or set MAILROOM_CONFIG');
      const ticketNumber = options.ticket === undefined ? null : ticketNumberOption('--ticket', options.ticket);
      const newNumber = ticketNumberOption('--number', options.number);
      const loaded = await loadFile(ctx, file);
      if (!loaded.ok) {
        for (const problem of loaded.problems) ctx.io.err(`${formatProblem(problem)}\n`);
        setExit(1);
        return;
      }
      let raw: Buffer;
      try {
        raw = await ctx.readFile(messageFile);
      } catch (err) {
        throw new AppError('NOT_FOUND', `cannot read ${messageFile}: ${(err as Error).message}`);
      }
      // Reply tokens are recognised with the daemon's secret when there is one; without it none verifies.
      let secret = '';
      try {
        secret = ctx.secret();
      } catch {
        secret = '';
      }
      const result = await dryRunRules({ ruleSet: loaded.ruleSet, raw, ticketNumber, newNumber, secret, now: new Date() }, (use) => ctx.withDb(use));
      if (!result.ok) {
        ctx.io.err(`${messageFile}: cannot parse: ${result.error}\n`);
        setExit(1);
        return;
      }
      const report = result.report;
      if (options.json) {
        printJson(ctx, { file: messageFile, rules: file, ...report });
        return;
      }
      ctx.io.out(describe(report));
    });
}

function ticketNumberOption(name: string, text: string): number {
  if (!/^\d{1,12}$/.test(text) || Number(text) < 1) throw new AppError('USAGE', `${name} takes a ticket number`);
  return Number(text);
}

function summarize(ruleSet: RuleSet) {
  return {
    mailboxes: ruleSet.mailboxes.map((m) => m.address),
    categories: ruleSet.categories.map((c) => c.id),
    fields: ruleSet.fields.map((f) => f.id),
    languages: Object.keys(ruleSet.templates),
  };
}

function describe(r: RulesDryRunReport): string {
  const where = r.ticket.opens
    ? `new ticket #${r.ticket.number} (${r.ticket.opens.relation === 'followup' ? 'follow-up of' : 'a stranger replied on'} #${r.ticket.opens.linkedTo})`
    : r.ticket.new
      ? `new ticket #${r.ticket.number}`
      : `#${r.ticket.number}, ${r.ticket.statusBefore}`;
  const lines = [`ticket:    ${where}`, `mailbox:   ${r.mailbox}`, `category:  ${r.category ? `${r.category.id} (${r.category.label})` : '-'}${r.responseTime ? `, response time ${r.responseTime}` : ''}`];
  const found = Object.entries(r.found);
  lines.push(`found:     ${found.length ? found.map(([id, f]) => (f.value ? `${id}=${JSON.stringify(f.value)}` : id)).join(', ') : '-'}`);
  lines.push(`missing:   ${r.missing.length ? r.missing.map((m) => m.id).join(', ') : '-'}`);
  if (r.sensitive.length) lines.push(`sensitive: ${r.sensitive.map((s) => s.id).join(', ')}`);
  lines.push(`status:    ${r.status ?? 'unchanged'}; tags +[${r.addTags.join(', ')}] -[${r.removeTags.join(', ')}]`);
  if (r.withheld) lines.push(`no mail:   ${r.withheld}`);
  for (const mail of r.mails) {
    lines.push('', `--- ${mail.kind} ---`, `From: ${mail.from}`, `To: ${mail.to}`, ...(mail.cc.length ? [`Cc: ${mail.cc.join(', ')}`] : []), `Subject: ${mail.subject}`, ...Object.entries(mail.headers).map(([k, v]) => `${k}: ${v}`), '', mail.body.trimEnd());
  }
  return `${lines.join('\n')}\n`;
}
