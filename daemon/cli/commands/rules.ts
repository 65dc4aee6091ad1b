import type { Command } from 'commander';
import { findContact } from '../../../db/tickets.js';
import { decideAutoReply, type AutoReplyInput } from '../../../parsers/auto-generated.js';
import { parseMessage, type ParsedMessage } from '../../../parsers/message.js';
import { decide, type PlannedMail, type TicketBefore } from '../../../rules/decide.js';
import { formatProblem, loadRuleSet, type RuleProblem } from '../../../rules/load.js';
import { planWithoutRequest } from '../../../rules/plan.js';
import { findMailbox } from '../../../rules/mailboxes.js';
import type { RuleSet } from '../../../rules/schema.js';
import { renderReply } from '../../../rules/templates/render-reply.js';
import { AppError } from '../../errors.js';
import { messageFacts, redactMessage } from '../../pipeline/apply-rules.js';
import { autoReplyCounts } from '../../tickets/automatic-mail.js';
import { ticketForReply, type ReplyTarget } from '../../tickets/ticket-state.js';
import { classifyMessage } from '../../pipeline/classify.js';
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
      const ruleSet = loaded.ruleSet;
      const message = parsed.message;
      const now = new Date();
      const newTicket: TicketBefore = { number: newNumber, isNew: true, status: 'new', tags: [], detailRequests: 0, category: null, fields: {}, requester: null };
      const report =
        ticketNumber === null
          ? await simulate(ruleSet, message, secret, now, { ticket: newTicket, ticketId: null, opens: null }, async (recipient) => ({ suppressed: false, ...(await autoReplyCounts(null, ruleSet, null, recipient, now)) }))
          : await ctx.withDb(async (db) => {
              const sender = (message.from?.address ?? '').toLowerCase();
              const target = await ticketForReply(db, ruleSet, ticketNumber, sender, newNumber);
              if (!target) throw new AppError('NOT_FOUND', `no ticket ${ticketNumber}`);
              return simulate(ruleSet, message, secret, now, target, async (recipient) => ({
                suppressed: recipient ? ((await findContact(db, recipient))?.suppressed ?? false) : false,
                ...(await autoReplyCounts(db, ruleSet, target.ticketId, recipient, now)),
              }));
            });
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

type Report = Awaited<ReturnType<typeof simulate>>;
type MailLimits = (recipient: string | null) => Promise<Omit<AutoReplyInput, 'automation' | 'recipient'>>;

/**
 * What the daemon would decide for this message on this ticket: the same decision function
 * (rules/decide.ts), the same facts taken from the message (messageFacts), then the same RFC 3834
 * check and rate limits. Nothing is stored or sent.
 */
async function simulate(ruleSet: RuleSet, message: ParsedMessage, secret: string, now: Date, target: ReplyTarget, limitsFor: MailLimits) {
  const recipients = [...message.to, ...message.cc].map((a) => a.address);
  const mailbox = recipients.map((a) => findMailbox(ruleSet, a)).find((m) => m !== null) ?? ruleSet.mailboxes[0]!;
  const envelopeFrom = /<([^>]*)>/.exec(message.headers.get('return-path')?.[0] ?? '')?.[1] ?? message.from?.address ?? '';
  const classification = classifyMessage(ruleSet, { mailFrom: envelopeFrom, rcptTo: recipients.length ? recipients : [mailbox.address] }, message);
  const automation = classification.automation;
  const redacted = await redactMessage(message, ruleSet, async () => undefined);
  const facts = messageFacts(message, mailbox, classification.details, secret, envelopeFrom, redacted);
  const decision = decide(ruleSet, mailbox, target.ticket, facts, now);
  const { verdict } = decision;
  const plan = automation.autoGenerated ? null : decision.plan;
  const withheldBy = async (mail: PlannedMail) => {
    const verdictOnMail = decideAutoReply({ automation, recipient: mail.to, ...(await limitsFor(mail.to)) });
    return verdictOnMail.send ? null : verdictOnMail.reason;
  };
  const rendered = (mail: PlannedMail) => {
    const text = renderReply(mail.kind, ruleSet, mailbox, mail.values);
    if (!text) return [];
    const headers = { 'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All' };
    return [{ kind: mail.kind, from: `${mailbox.name} <${mailbox.address}>`, to: mail.to, cc: mail.cc, subject: text.subject, body: text.body, headers }];
  };
  // One mail answers the message: the reply, or the warning alone when the reply is withheld.
  let withheld: string | null = automation.autoGenerated ? `auto_generated:${automation.reason}` : null;
  let mails: ReturnType<typeof rendered> = [];
  if (plan && decision.reply) {
    withheld = await withheldBy(decision.reply);
    if (!withheld) mails = rendered(decision.reply);
  }
  if (plan && decision.warningAlone && mails.length === 0) {
    const alone = await withheldBy(decision.warningAlone);
    if (!alone) mails = rendered(decision.warningAlone);
    withheld ??= alone;
  }
  const finalPlan = plan && decision.reply && withheld && decision.reply.kind !== 'acknowledgement' ? planWithoutRequest(plan, target.ticket, ruleSet, withheld) : plan;
  return {
    ticket: { number: target.ticket.number, new: target.ticket.isNew, opens: target.opens, statusBefore: target.ticket.isNew ? null : target.ticket.status },
    mailbox: mailbox.address,
    automation,
    category: verdict.category,
    slaHours: verdict.slaHours,
    responseTime: verdict.responseTime,
    found: verdict.found,
    missing: verdict.missing,
    lengthProblem: verdict.lengthProblem,
    sensitive: verdict.sensitive.map((s) => ({ id: s.id, label: s.label, inText: s.inText, attachments: s.attachmentIndexes.length })),
    status: finalPlan?.status ?? null,
    addTags: finalPlan?.addTags ?? [],
    removeTags: finalPlan?.removeTags ?? [],
    events: finalPlan?.events ?? [],
    mails,
    withheld,
  };
}

function describe(r: Report): string {
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
