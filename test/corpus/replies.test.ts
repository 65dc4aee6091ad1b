import { readFile } from 'node:fs/promises';
import { simpleParser } from 'mailparser';
import { describe, it, expect } from 'vitest';
import { extractVisibleReply, extractVisibleReplyFromHtml } from '../../parsers/visible-reply.js';

// Read-only corpus maintained outside this project (see its README.md for the scoring rules).
const CORPUS = new URL('../../../shared/corpus/replies/', import.meta.url);
const MIN_EXACT_RATE = 0.8;

interface CorpusEntry {
  file: string;
  format: 'text' | 'html' | 'eml';
  visible_text: string;
  alternatives?: string[];
}

/** The README's comparison: Unicode NFC, whitespace runs collapsed to one space, trimmed. */
function canonical(text: string): string {
  return text.normalize('NFC').replace(/\s+/gu, ' ').trim();
}

async function extractFrom(entry: CorpusEntry): Promise<string> {
  const url = new URL(entry.file, CORPUS);
  if (entry.format === 'eml') {
    const mail = await simpleParser(await readFile(url));
    return extractVisibleReply(mail.text ?? '');
  }
  const body = await readFile(url, 'utf8');
  return entry.format === 'html' ? extractVisibleReplyFromHtml(body) : extractVisibleReply(body);
}

describe('visible reply corpus', () => {
  it(`matches the expected visible text for at least ${MIN_EXACT_RATE * 100}% of the corpus`, async () => {
    const entries = JSON.parse(await readFile(new URL('expected.json', CORPUS), 'utf8')) as CorpusEntry[];
    const failures: string[] = [];
    for (const entry of entries) {
      const got = canonical(await extractFrom(entry));
      const accepted = [entry.visible_text, ...(entry.alternatives ?? [])].map(canonical);
      if (!accepted.includes(got)) failures.push(entry.file);
    }
    const exact = entries.length - failures.length;
    const rate = exact / entries.length;
    console.log(`visible reply corpus: ${exact}/${entries.length} exact (${(rate * 100).toFixed(1)}%)`);
    if (failures.length > 0) console.log(`failing files:\n  ${failures.join('\n  ')}`);
    expect(entries.length).toBeGreaterThan(0);
    expect(rate).toBeGreaterThanOrEqual(MIN_EXACT_RATE);
  });
});
