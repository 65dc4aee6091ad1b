// Rules CPU per customer mail on one core, the daemon's path without the database:
//   npx tsx bench/rules-bench.ts [CORPUS_DIR]
// For every rules file in examples/, redactMessage (daemon/pipeline/apply-rules.ts) then decide
// (rules/decide.ts) on a new ticket, over three mail sets parsed once before timing:
// 1. prose: the ~5 KB text/plain mails bench/smtp-client.mjs sends (its 8 bodies);
// 2. conversations: the first mails of the 200 recorded conversations (test/helpers/conversations.ts);
// 3. corpus: every .eml under CORPUS_DIR (../shared/corpus), parsed by parseMessage.
// Each set: 2 untimed warm-up passes, then ROUNDS timed rounds of at least ROUND_S seconds; the
// figures are the median round's µs per mail, of CPU time (the process's user + system, steadier
// than wall time on a shared machine) and of wall time. `decisions` is a hash of every decision made, so two
// runs (before and after a change) can be compared for identical results.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { messageFacts, redactMessage } from '../daemon/pipeline/apply-rules.js';
import { parseMessage, type ParsedMessage } from '../parsers/message.js';
import { decide, type TicketBefore } from '../rules/decide.js';
import { loadRuleSet } from '../rules/load.js';
import type { RuleSet } from '../rules/schema.js';
import { recordedConversations } from '../test/helpers/conversations.js';
import { bodyText } from './prose.mjs';

const root = path.resolve(import.meta.dirname, '..');
const corpusDir = process.argv[2] ?? path.resolve(root, '../shared/corpus');
const ROUND_S = Number(process.env.RULES_ROUND_S ?? 2);
const ROUNDS = Number(process.env.RULES_ROUNDS ?? 5);
const NOW = new Date('2026-03-12T10:00:00Z');
const NEW_TICKET: TicketBefore = { number: 1000, isNew: true, status: 'new', tags: [], detailRequests: 0, category: null, fields: {}, requester: null };

function rawMail(from: string, to: string, subject: string, body: string): Buffer {
  const head = [`From: Customer <${from}>`, `To: Support <${to}>`, `Subject: ${subject}`, 'Message-ID: <bench@client.example.test>', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit'];
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${body.replace(/\r?\n/g, '\r\n')}\r\n`);
}

/**
 * mailparser dates an attached message that has no Date header with the clock; a fixed clock
 * while parsing keeps the decisions hash the same from run to run.
 */
async function parsed(raws: Buffer[]): Promise<ParsedMessage[]> {
  const RealDate = Date;
  globalThis.Date = class extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(NOW.getTime());
      else super(...(args as [string]));
    }
  } as DateConstructor;
  try {
    const out: ParsedMessage[] = [];
    for (const raw of raws) {
      const result = await parseMessage(raw);
      if (result.ok) out.push(result.message);
    }
    return out;
  } finally {
    globalThis.Date = RealDate;
  }
}

function emlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.eml'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

const ruleSets: Array<{ file: string; ruleSet: RuleSet }> = [];
for (const file of readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.yaml')).sort()) {
  const result = loadRuleSet(readFileSync(path.join(root, 'examples', file), 'utf8'), file);
  if (!result.ok) throw new Error(`${file}: ${result.problems.map((p) => p.message).join('; ')}`);
  ruleSets.push({ file, ruleSet: result.ruleSet });
}

const sets: Array<{ name: string; mails: ParsedMessage[] }> = [
  { name: 'prose 5 KB', mails: await parsed(Array.from({ length: 8 }, (_, i) => rawMail(`customer-${i}@client${i}.example.org`, 'support@example.com', `Widget problem ${i}`, bodyText(i, 5120 - 400)))) },
  {
    name: 'conversations',
    mails: await parsed(recordedConversations().map((c) => rawMail(c.from, c.to, c.mails[0]!.subject, c.mails[0]!.body))),
  },
  { name: 'corpus', mails: await parsed(emlFiles(corpusDir).map((f) => readFileSync(f))) },
];

const noPause = () => Promise.resolve();

async function evaluateAll(ruleSet: RuleSet, mails: ParsedMessage[], hash?: ReturnType<typeof createHash>): Promise<void> {
  const mailbox = ruleSet.mailboxes[0]!;
  for (const message of mails) {
    const redacted = await redactMessage(message, ruleSet, noPause);
    const facts = messageFacts(message, mailbox, [], '', message.from?.address ?? '', redacted);
    const decision = decide(ruleSet, mailbox, NEW_TICKET, facts, NOW);
    hash?.update(JSON.stringify([redacted.subject, redacted.visibleText, redacted.text, redacted.html, [...redacted.found], decision]));
  }
}

for (const { file, ruleSet } of ruleSets) {
  for (const { name, mails } of sets) {
    const hash = createHash('sha256');
    await evaluateAll(ruleSet, mails, hash);
    await evaluateAll(ruleSet, mails);
    const cpuPerMail: number[] = [];
    const wallPerMail: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      let count = 0;
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      let wallS = 0;
      do {
        await evaluateAll(ruleSet, mails);
        count += mails.length;
        wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      } while (wallS < ROUND_S);
      const cpu = process.cpuUsage(c0);
      cpuPerMail.push((cpu.user + cpu.system) / count);
      wallPerMail.push((wallS * 1e6) / count);
    }
    const median = (values: number[]) => +values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!.toFixed(1);
    console.log(
      JSON.stringify({
        rules: file,
        mails: name,
        count: mails.length,
        kb_per_mail: +(mails.reduce((s, m) => s + m.visibleText.length + (m.text === m.visibleText ? 0 : m.text.length) + (m.html?.length ?? 0), 0) / mails.length / 1024).toFixed(1),
        cpu_us_per_mail_median: median(cpuPerMail),
        cpu_us_per_mail_min: +cpuPerMail[0]!.toFixed(1),
        wall_us_per_mail_median: median(wallPerMail),
        decisions: hash.digest('hex').slice(0, 16),
      }),
    );
  }
}
