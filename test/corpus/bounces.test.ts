import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBounce, type BounceReport, type BounceRecipient } from '../../parsers/bounce.js';

// Read-only corpus maintained outside this project; its README.md defines the manifest and how
// results are paired and scored. It is never edited to make this suite pass.
const CORPUS = new URL('../../../shared/corpus/bounces/', import.meta.url);

/**
 * Floors from the task, set below the measured figures (printed by the suite) so that a regression
 * fails while one borderline file moving does not.
 */
const MIN_RECIPIENT = 0.98;
const MIN_STATUS_RFC3463 = 0.95;
const MIN_REASON = 0.85;
/** Mismatch lines printed; the rest are counted. */
const MAX_PRINTED_MISMATCHES = 80;

interface ExpectedRow {
  index: number;
  recipient: string | null;
  recipient_alt?: string[] | string;
  status: string;
  replycode: string;
  reason: string;
  hardbounce: boolean;
  action?: string;
}

interface Entry {
  file: string;
  family: string;
  variant: 'lf' | 'crlf';
  variant_of?: string;
  expected: ExpectedRow[];
  original?: { message_id?: string; subject?: string; sender?: string };
}

const entries = JSON.parse(readFileSync(new URL('expected.json', CORPUS), 'utf8')) as Entry[];

interface Tally {
  ok: number;
  total: number;
}

type Field = 'recipient' | 'status' | 'status3463' | 'replycode' | 'reason' | 'hardbounce' | 'action' | 'messageId';
const FIELDS: Field[] = ['recipient', 'status', 'status3463', 'replycode', 'reason', 'hardbounce', 'action', 'messageId'];

interface Mismatch {
  file: string;
  field: Field;
  expected: unknown;
  got: unknown;
}

function alternatives(row: ExpectedRow): string[] {
  const alt = row.recipient_alt === undefined ? [] : Array.isArray(row.recipient_alt) ? row.recipient_alt : [row.recipient_alt];
  return [row.recipient, ...alt].filter((a): a is string => typeof a === 'string').map((a) => a.toLowerCase());
}

/** README rule: pair by recipient (case-insensitive, recipient_alt accepted), the rest in order. */
function pairRows(expected: readonly ExpectedRow[], got: readonly BounceRecipient[]): Array<[ExpectedRow, BounceRecipient | null]> {
  const used = new Set<number>();
  const pairs: Array<[ExpectedRow, BounceRecipient | null]> = expected.map((row) => {
    const wanted = alternatives(row);
    const i = got.findIndex((g, k) => !used.has(k) && g.recipient !== null && wanted.includes(g.recipient));
    if (i === -1) return [row, null];
    used.add(i);
    return [row, got[i]!];
  });
  for (const pair of pairs) {
    if (pair[1]) continue;
    const i = got.findIndex((_, k) => !used.has(k));
    if (i !== -1) {
      used.add(i);
      pair[1] = got[i]!;
    }
  }
  return pairs;
}

function isRfc3463(status: string): boolean {
  const third = status.split('.')[2];
  return status !== '' && third !== undefined && Number(third) < 900;
}

function score(results: ReadonlyMap<string, BounceReport | null>, which: (e: Entry) => boolean) {
  const tally = Object.fromEntries(FIELDS.map((f) => [f, { ok: 0, total: 0 }])) as Record<Field, Tally>;
  const mismatches: Mismatch[] = [];
  const note = (file: string, field: Field, ok: boolean, expected: unknown, got: unknown): void => {
    tally[field].total++;
    if (ok) tally[field].ok++;
    else mismatches.push({ file, field, expected, got });
  };
  for (const entry of entries) {
    if (!which(entry) || entry.expected.length === 0) continue;
    const report = results.get(entry.file) ?? null;
    const name = entry.file.replace(/^maildir\//, '');
    for (const [row, got] of pairRows(entry.expected, report?.recipients ?? [])) {
      const wanted = alternatives(row);
      const recipientOk = got !== null && (row.recipient === null ? got.recipient === null : got.recipient !== null && wanted.includes(got.recipient));
      note(name, 'recipient', recipientOk, row.recipient, got?.recipient);
      note(name, 'status', got?.status === row.status, row.status, got?.status);
      if (isRfc3463(row.status)) note(name, 'status3463', got?.status === row.status, row.status, got?.status);
      note(name, 'replycode', got?.replyCode === row.replycode, row.replycode, got?.replyCode);
      note(name, 'reason', got?.reason === row.reason, row.reason, got?.reason);
      note(name, 'hardbounce', got?.hard === row.hardbounce, row.hardbounce, got?.hard);
      if (row.action !== undefined) note(name, 'action', got?.action === row.action, row.action, got?.action);
    }
    if (entry.original?.message_id) {
      note(name, 'messageId', report?.originalMessageId === entry.original.message_id, entry.original.message_id, report?.originalMessageId);
    }
  }
  return { tally, mismatches };
}

function percent(t: Tally): string {
  return t.total === 0 ? 'n/a' : `${((100 * t.ok) / t.total).toFixed(1)}% (${t.ok}/${t.total})`;
}

function ratio(t: Tally): number {
  return t.total === 0 ? 1 : t.ok / t.total;
}

const LABELS: Record<Field, string> = {
  recipient: 'recipient',
  status: 'status(all)',
  status3463: 'status(RFC 3463)',
  replycode: 'replycode',
  reason: 'reason',
  hardbounce: 'hardbounce',
  action: 'action',
  messageId: 'original Message-ID',
};

describe('bounce corpus (shared/corpus/bounces)', () => {
  const results = new Map<string, BounceReport | null>();

  it('parses every file of the corpus without throwing', async () => {
    for (const entry of entries) {
      const raw = readFileSync(new URL(entry.file, CORPUS));
      results.set(entry.file, await parseBounce(raw));
    }
    expect(results.size).toBe(entries.length);
  });

  it('scores the LF bounces per field and meets the floors', () => {
    const { tally, mismatches } = score(results, (e) => e.variant === 'lf');
    const summary = FIELDS.map((f) => `${LABELS[f]} ${percent(tally[f])}`).join(', ');
    const lines = mismatches
      .slice(0, MAX_PRINTED_MISMATCHES)
      .map((m) => `  ${m.file.padEnd(34)} ${m.field.padEnd(11)} expected ${JSON.stringify(m.expected)} got ${JSON.stringify(m.got)}`);
    const more = mismatches.length > MAX_PRINTED_MISMATCHES ? [`  ... and ${mismatches.length - MAX_PRINTED_MISMATCHES} more`] : [];
    console.log([`bounce corpus: ${summary}`, `mismatches (${mismatches.length}):`, ...lines, ...more].join('\n'));
    expect(ratio(tally.recipient), 'recipient').toBeGreaterThanOrEqual(MIN_RECIPIENT);
    expect(ratio(tally.status3463), 'status on RFC 3463 rows').toBeGreaterThanOrEqual(MIN_STATUS_RFC3463);
    expect(ratio(tally.reason), 'reason').toBeGreaterThanOrEqual(MIN_REASON);
  });

  it('scores the CRLF copies and gives them the same results as their LF originals', () => {
    const copies = entries.filter((e) => e.variant === 'crlf');
    const { tally } = score(results, (e) => e.variant === 'crlf');
    console.log(`bounce corpus, CRLF copies (${copies.length}): ` + FIELDS.map((f) => `${LABELS[f]} ${percent(tally[f])}`).join(', '));
    for (const copy of copies) {
      const lf = results.get(copy.variant_of ?? '');
      const crlf = results.get(copy.file);
      expect(crlf, copy.file).toEqual(lf);
    }
  });

  it('returns null for the messages that are not bounces', () => {
    const negatives = entries.filter((e) => e.expected.length === 0);
    console.log(`bounce corpus, non-bounces: ${negatives.filter((e) => results.get(e.file) === null).length}/${negatives.length} null`);
    expect(negatives.length).toBeGreaterThan(0);
    for (const entry of negatives) expect(results.get(entry.file), entry.file).toBeNull();
  });
});
