import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { decideAutoReply } from '../../../parsers/auto-generated.js';
import { parseMessage, type ParsedMessage } from '../../../parsers/message.js';
import { decide, type PlannedMail, type TicketBefore } from '../../../rules/decide.js';
import { formatProblem, loadRuleSet, type RuleProblem } from '../../../rules/load.js';
import { findMailbox } from '../../../rules/mailboxes.js';
import type { RuleSet } from '../../../rules/schema.js';
import { renderReply } from '../../../rules/templates/render-reply.js';
import { AppError } from '../../errors.js';
import { messageFacts } from '../../pipeline/apply-rules.js';
import { classifyMessage } from '../../pipeline/classify.js';
import { printJson, type CliContext } from '../context.js';

async function loadFile(file: string): Promise<{ ok: true; ruleSet: RuleSet } | { ok: false; problems: RuleProblem[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
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
      const result = await loadFile(file);
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
    .description('show what the rules would do with a message, as the first mail of a new ticket')
    .argument('<message>', '.eml file')
    .option('--config <file>', 'rules file to try (default: MAILROOM_CONFIG)')
    .option('--ticket <number>', 'ticket number to show in the mail', '1000')
    .option('--json', 'machine-readable output (see README)')
    .action(async (messageFile: string, options: { config?: string; ticket: string; json?: boolean }) => {
      const file = options.config ?? defaultFile();
      if (!file) throw new AppError('USAGE', 'no rules file: give --config FILE or set MAILROOM_CONFIG');
      const loaded = await loadFile(file);
      if (!loaded.ok) {
        for (const problem of loaded.problems) ctx.io.err(`${formatProblem(problem)}\n`);
        setExit(1);
        return;
      }
      let raw: Buffer;
      try {
        raw = await readFile(messageFile);
      } catch (err) {
        throw new AppError('NOT_FOUND', `cannot read ${messageFile}: ${(err as Error).message}`);
      }
      const parsed = await parseMessage(raw);
      if (!parsed.ok) {
        ctx.io.err(`${messageFile}: cannot parse: ${parsed.error}\n`);
        setExit(1);
        return;
      }
      // Reply tokens are recognised with the daemon's secret when there is one; without it none verifies.
      let secret = '';
      try {
        secret = ctx.secret();
      } catch {
        secret = '';
      }
      const report = simulate(loaded.ruleSet, parsed.message, Number(options.ticket), secret, new Date());
      if (options.json) {
        printJson(ctx, { file: messageFile, rules: file, ...report });
        return;
      }
      ctx.io.out(describe(report));
    });
}

function summarize(ruleSet: RuleSet) {
  return {
    mailboxes: ruleSet.mailboxes.map((m) => m.address),
    categories: ruleSet.categories.map((c) => c.id),
    fields: ruleSet.fields.map((f) => f.id),
    languages: Object.keys(ruleSet.templates),
  };
}

type Report = ReturnType<typeof simulate>;

/**
 * What the daemon would decide for this message as the first mail of a new ticket: the same
 * decision function (rules/decide.ts) and the same facts taken from the message
 * (messageFacts), then the same RFC 3834 check; no database, nothing sent.
 */
function simulate(ruleSet: RuleSet, message: ParsedMessage, ticketNumber: number, secret: string, now: Date) {
  const recipients = [...message.to, ...message.cc].map((a) => a.address);
  const mailbox = recipients.map((a) => findMailbox(ruleSet, a)).find((m) => m !== null) ?? ruleSet.mailboxes[0]!;
  const envelopeFrom = /<([^>]*)>/.exec(message.headers.get('return-path')?.[0] ?? '')?.[1] ?? message.from?.address ?? '';
  const classification = classifyMessage(ruleSet, { mailFrom: envelopeFrom, rcptTo: recipients.length ? recipients : [mailbox.address] }, message);
  const automation = classification.automation;
  const facts = messageFacts(message, mailbox, classification.details, secret, envelopeFrom);
  const ticket: TicketBefore = { number: ticketNumber, isNew: true, status: 'new', tags: [], detailRequests: 0, category: null, fields: {}, requester: null };
  const decision = decide(ruleSet, mailbox, ticket, facts, now);
  const { verdict } = decision;
  const plan = automation.autoGenerated ? null : decision.plan;
  const verdictOnMail = decideAutoReply({
    automation,
    recipient: facts.answerAddress,
    ownAddresses: new Set(ruleSet.mailboxes.map((m) => m.address)),
    suppressed: false,
    perTicket: [],
    perRecipient: [],
  });
  const planned = plan ? [decision.reply ?? decision.warningAlone].filter((mail): mail is PlannedMail => mail !== null) : [];
  const mails = planned.flatMap((mail) => {
    const rendered = renderReply(mail.kind, ruleSet, mailbox, mail.values);
    if (!rendered || !verdictOnMail.send) return [];
    return [{ kind: mail.kind, from: `${mailbox.name} <${mailbox.address}>`, to: mail.to, subject: rendered.subject, body: rendered.body, headers: { 'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All' } }];
  });
  return {
    mailbox: mailbox.address,
    automation,
    category: verdict.category,
    slaHours: verdict.slaHours,
    responseTime: verdict.responseTime,
    found: verdict.found,
    missing: verdict.missing,
    lengthProblem: verdict.lengthProblem,
    sensitive: verdict.sensitive.map((s) => ({ id: s.id, label: s.label, inText: s.inText, attachments: s.attachmentIndexes.length })),
    status: plan?.status ?? null,
    addTags: plan?.addTags ?? [],
    removeTags: plan?.removeTags ?? [],
    events: plan?.events ?? [],
    mails,
    withheld: planned.length > 0 && !verdictOnMail.send ? verdictOnMail.reason : automation.autoGenerated ? `auto_generated:${automation.reason}` : null,
  };
}

function describe(r: Report): string {
  const lines = [`mailbox:   ${r.mailbox}`, `category:  ${r.category ? `${r.category.id} (${r.category.label})` : '-'}${r.responseTime ? `, response time ${r.responseTime}` : ''}`];
  const found = Object.entries(r.found);
  lines.push(`found:     ${found.length ? found.map(([id, f]) => (f.value ? `${id}=${JSON.stringify(f.value)}` : id)).join(', ') : '-'}`);
  lines.push(`missing:   ${r.missing.length ? r.missing.map((m) => m.id).join(', ') : '-'}`);
  if (r.sensitive.length) lines.push(`sensitive: ${r.sensitive.map((s) => s.id).join(', ')}`);
  lines.push(`status:    ${r.status ?? 'unchanged'}; tags +[${r.addTags.join(', ')}] -[${r.removeTags.join(', ')}]`);
  if (r.withheld) lines.push(`no mail:   ${r.withheld}`);
  for (const mail of r.mails) {
    lines.push('', `--- ${mail.kind} ---`, `From: ${mail.from}`, `To: ${mail.to}`, `Subject: ${mail.subject}`, ...Object.entries(mail.headers).map(([k, v]) => `${k}: ${v}`), '', mail.body.trimEnd());
  }
  return `${lines.join('\n')}\n`;
}
