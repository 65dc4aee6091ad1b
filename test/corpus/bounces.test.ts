import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBounce, type BounceReport } from '../../parsers/bounce.js';
import { FIELDS, LABELS, formatMismatches, percent, ratio, scoreBounces, type CorpusEntry } from '../helpers/bounce-scoring.js';

// Read-only corpus maintained outside this project; its README.md defines the manifest and how
// results are paired and scored. It is never edited to make this suite pass.
const CORPUS = new URL('../../../shared/corpus/bounces/', import.meta.url);

/**
 * Floors from the task, set below the measured figures (printed by the suite) so that a regression
 * fails while one borderline file moving does not.
 */
const MIN_RECIPIENT = 0.99;
const MIN_STATUS_RFC3463 = 0.95;
const MIN_REASON = 0.92;
/** Mismatch lines printed; the rest are counted. */
const MAX_PRINTED_MISMATCHES = 80;

const entries = JSON.parse(readFileSync(new URL('expected.json', CORPUS), 'utf8')) as CorpusEntry[];

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
    const { tally, mismatches } = scoreBounces(entries, results, (e) => e.variant === 'lf');
    const summary = FIELDS.map((f) => `${LABELS[f]} ${percent(tally[f])}`).join(', ');
    const lines = formatMismatches(mismatches, MAX_PRINTED_MISMATCHES);
    console.log([`bounce corpus: ${summary}`, `mismatches (${mismatches.length}):`, ...lines].join('\n'));
    expect(ratio(tally.recipient), 'recipient').toBeGreaterThanOrEqual(MIN_RECIPIENT);
    expect(ratio(tally.status3463), 'status on RFC 3463 rows').toBeGreaterThanOrEqual(MIN_STATUS_RFC3463);
    expect(ratio(tally.reason), 'reason').toBeGreaterThanOrEqual(MIN_REASON);
  });

  it('scores the CRLF copies and gives them the same results as their LF originals', () => {
    const copies = entries.filter((e) => e.variant === 'crlf');
    const { tally } = scoreBounces(entries, results, (e) => e.variant === 'crlf');
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
