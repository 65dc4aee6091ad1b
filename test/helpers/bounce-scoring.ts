import type { BounceRecipient, BounceReport } from '../../parsers/bounce.js';

// How a bounce corpus manifest (expected.json) is read and scored: the rules of
// /work/shared/corpus/bounces/README.md ("How results are compared"), shared by the suites that
// score the shared corpus and our own (test/corpus/own-bounces).

export interface ExpectedRow {
  index: number;
  recipient: string | null;
  recipient_alt?: string[] | string;
  status: string;
  replycode: string;
  reason: string;
  hardbounce: boolean;
  action?: string;
}

export interface CorpusEntry {
  file: string;
  family: string;
  variant: 'lf' | 'crlf';
  variant_of?: string;
  /** Own corpus only: which half the message belongs to. */
  split?: 'tune' | 'unseen';
  expected: ExpectedRow[];
  original?: { message_id?: string; subject?: string; sender?: string };
}

export interface Tally {
  ok: number;
  total: number;
}

export type Field = 'recipient' | 'status' | 'status3463' | 'replycode' | 'reason' | 'hardbounce' | 'action' | 'messageId';
export const FIELDS: Field[] = ['recipient', 'status', 'status3463', 'replycode', 'reason', 'hardbounce', 'action', 'messageId'];

export const LABELS: Record<Field, string> = {
  recipient: 'recipient',
  status: 'status(all)',
  status3463: 'status(RFC 3463)',
  replycode: 'replycode',
  reason: 'reason',
  hardbounce: 'hardbounce',
  action: 'action',
  messageId: 'original Message-ID',
};

export interface Mismatch {
  file: string;
  family: string;
  field: Field;
  expected: unknown;
  got: unknown;
}

export interface Score {
  tally: Record<Field, Tally>;
  mismatches: Mismatch[];
  /** Rows and rows with every scored field right, per family. */
  families: Map<string, Tally>;
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

/** Scores the bounces (entries with expected rows) that `which` selects. */
export function scoreBounces(
  entries: readonly CorpusEntry[],
  results: ReadonlyMap<string, BounceReport | null>,
  which: (e: CorpusEntry) => boolean,
): Score {
  const tally = Object.fromEntries(FIELDS.map((f) => [f, { ok: 0, total: 0 }])) as Record<Field, Tally>;
  const mismatches: Mismatch[] = [];
  const families = new Map<string, Tally>();
  for (const entry of entries) {
    if (!which(entry) || entry.expected.length === 0) continue;
    const report = results.get(entry.file) ?? null;
    const name = entry.file.replace(/^maildir\//, '');
    let rowOk = true;
    const note = (field: Field, ok: boolean, expected: unknown, got: unknown): void => {
      tally[field].total++;
      if (ok) tally[field].ok++;
      else {
        mismatches.push({ file: name, family: entry.family, field, expected, got });
        if (field !== 'messageId') rowOk = false;
      }
    };
    const family = families.get(entry.family) ?? { ok: 0, total: 0 };
    families.set(entry.family, family);
    for (const [row, got] of pairRows(entry.expected, report?.recipients ?? [])) {
      rowOk = true;
      const wanted = alternatives(row);
      const recipientOk = got !== null && (row.recipient === null ? got.recipient === null : got.recipient !== null && wanted.includes(got.recipient));
      note('recipient', recipientOk, row.recipient, got?.recipient);
      note('status', got?.status === row.status, row.status, got?.status);
      if (isRfc3463(row.status)) note('status3463', got?.status === row.status, row.status, got?.status);
      note('replycode', got?.replyCode === row.replycode, row.replycode, got?.replyCode);
      note('reason', got?.reason === row.reason, row.reason, got?.reason);
      note('hardbounce', got?.hard === row.hardbounce, row.hardbounce, got?.hard);
      if (row.action !== undefined) note('action', got?.action === row.action, row.action, got?.action);
      family.total++;
      if (rowOk) family.ok++;
    }
    if (entry.original?.message_id) {
      note('messageId', report?.originalMessageId === entry.original.message_id, entry.original.message_id, report?.originalMessageId);
    }
  }
  return { tally, mismatches, families };
}

export function percent(t: Tally): string {
  return t.total === 0 ? 'n/a' : `${((100 * t.ok) / t.total).toFixed(1)}% (${t.ok}/${t.total})`;
}

export function ratio(t: Tally): number {
  return t.total === 0 ? 1 : t.ok / t.total;
}

/** One line per mismatch, the first `max` of them, then a count of the rest. */
export function formatMismatches(mismatches: readonly Mismatch[], max: number): string[] {
  const lines = mismatches
    .slice(0, max)
    .map((m) => `  ${m.file.padEnd(34)} ${m.field.padEnd(11)} expected ${JSON.stringify(m.expected)} got ${JSON.stringify(m.got)}`);
  return mismatches.length > max ? [...lines, `  ... and ${mismatches.length - max} more`] : lines;
}
