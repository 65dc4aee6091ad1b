// Parser throughput on one core (run through tsx, pinned with taskset by bench/run.sh):
//   npx tsx bench/parsers-bench.ts [BOUNCE_DIR] [REPLY_DIR]
// 1. parseBounce (parsers/bounce.ts) over every .eml of the bounce corpus (bsd + dos + not).
// 2. extractVisibleReply / extractVisibleReplyFromHtml (parsers/visible-reply.ts) over the reply
//    corpus: `text` entries -> extractVisibleReply, `html` -> extractVisibleReplyFromHtml, `eml` ->
//    extractVisibleReply on the message's text/plain part, decoded once by mailparser before timing
//    (the corpus test does the same); the full parseMessage of those .eml files is timed separately.
// Each loop: 2 untimed warm-up passes, then 3 timed rounds of at least ROUND_S seconds (whole passes);
// the figure is the median round. Prints one JSON line per measurement.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { parseBounce } from '../parsers/bounce.js';
import { parseMessage } from '../parsers/message.js';
import { extractVisibleReply, extractVisibleReplyFromHtml } from '../parsers/visible-reply.js';

const bounceDir = process.argv[2] ?? path.resolve(import.meta.dirname, '../../shared/corpus/bounces/maildir');
const replyDir = process.argv[3] ?? path.resolve(import.meta.dirname, '../../shared/corpus/replies');
const ROUND_S = Number(process.env.PARSERS_ROUND_S ?? 3);

interface Round { items: number; wallS: number; cpuS: number }

async function measure(name: string, count: number, pass: () => Promise<void> | void): Promise<void> {
  for (let i = 0; i < 2; i++) await pass(); // warm-up: JIT and caches
  const rounds: Round[] = [];
  for (let r = 0; r < 3; r++) {
    let items = 0;
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    let wall = 0;
    do {
      await pass();
      items += count;
      wall = Number(process.hrtime.bigint() - t0) / 1e9;
    } while (wall < ROUND_S);
    const c = process.cpuUsage(c0);
    rounds.push({ items, wallS: wall, cpuS: (c.user + c.system) / 1e6 });
  }
  const rates = rounds.map((r) => r.items / r.wallS).sort((a, b) => a - b);
  const median = rates[1]!;
  const mid = rounds.find((r) => r.items / r.wallS === median)!;
  console.log(
    JSON.stringify({
      measure: name,
      items_per_pass: count,
      per_s_median: Math.round(median),
      per_s_min: Math.round(rates[0]!),
      per_s_max: Math.round(rates[2]!),
      us_per_item: +((1e6 * mid.wallS) / mid.items).toFixed(1),
      cpu_over_wall: +(mid.cpuS / mid.wallS).toFixed(2),
    }),
  );
}

// ---- bounces
const bounceFiles: Array<{ file: string; raw: Buffer }> = [];
for (const sub of ['bsd', 'dos', 'not']) {
  const dir = path.join(bounceDir, sub);
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.eml')).sort()) bounceFiles.push({ file: `${sub}/${f}`, raw: readFileSync(path.join(dir, f)) });
}
let recognised = 0;
for (const b of bounceFiles) if ((await parseBounce(b.raw)) !== null) recognised++;
console.log(JSON.stringify({ corpus: 'bounces', files: bounceFiles.length, bytes: bounceFiles.reduce((s, b) => s + b.raw.length, 0), recognised }));
await measure('parseBounce', bounceFiles.length, async () => {
  for (const b of bounceFiles) await parseBounce(b.raw);
});

// the slowest files (one timed call each after the warm-up), to show where the time goes
const perFile = bounceFiles.map((b) => {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 5; i++) void parseBounce(b.raw);
  return { file: b.file, bytes: b.raw.length, us: Number(process.hrtime.bigint() - t0) / 5000 };
});
perFile.sort((a, b) => b.us - a.us);
const totalUs = perFile.reduce((s, f) => s + f.us, 0);
console.log(JSON.stringify({ slowest_bounces: perFile.slice(0, 5).map((f) => ({ ...f, us: Math.round(f.us), share: +(f.us / totalUs).toFixed(3) })) }));

// ---- replies
interface Entry { file: string; format: 'text' | 'html' | 'eml' }
const entries = JSON.parse(readFileSync(path.join(replyDir, 'expected.json'), 'utf8')) as Entry[];
const texts: string[] = [];
const htmls: string[] = [];
const emlTexts: string[] = [];
const emlRaws: Buffer[] = [];
for (const e of entries) {
  const file = path.join(replyDir, e.file);
  if (e.format === 'text') texts.push(readFileSync(file, 'utf8'));
  else if (e.format === 'html') htmls.push(readFileSync(file, 'utf8'));
  else {
    const raw = readFileSync(file);
    emlRaws.push(raw);
    emlTexts.push((await simpleParser(raw)).text ?? '');
  }
}
console.log(JSON.stringify({ corpus: 'replies', entries: entries.length, text: texts.length, html: htmls.length, eml: emlRaws.length }));
const all = texts.length + htmls.length + emlTexts.length;
await measure('extractVisibleReply (all: text + html + eml text part)', all, () => {
  for (const t of texts) extractVisibleReply(t);
  for (const h of htmls) extractVisibleReplyFromHtml(h);
  for (const t of emlTexts) extractVisibleReply(t);
});
await measure('extractVisibleReply (text only)', texts.length + emlTexts.length, () => {
  for (const t of texts) extractVisibleReply(t);
  for (const t of emlTexts) extractVisibleReply(t);
});
await measure('extractVisibleReplyFromHtml (html only)', htmls.length, () => {
  for (const h of htmls) extractVisibleReplyFromHtml(h);
});
await measure('parseMessage of the .eml replies (full MIME parse, for reference)', emlRaws.length, async () => {
  for (const r of emlRaws) await parseMessage(r);
});
