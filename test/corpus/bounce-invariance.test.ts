import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBounce } from '../../parsers/bounce.js';
import type { CorpusEntry } from '../helpers/bounce-scoring.js';

// Ways one bounce reaches us written differently by different software, none of which changes what
// it says: DSN field names in any case (RFC 3464 fields are case-insensitive, RFC 5322 §1.2.2), a
// space before the colon (obsolete syntax, RFC 5322 §4.5), and a single-part body sent
// quoted-printable or base64 (RFC 2045 §6) instead of as it is, and so the text and delivery-status
// parts of a multipart report. Each must give the rows the message
// gives as it is. Run over every bounce of both corpora that may be read (the own corpus' unseen
// half is left out, as everywhere but its own scoring).

const CORPORA = [new URL('../../../shared/corpus/bounces/', import.meta.url), new URL('own-bounces/', import.meta.url)];

const messages = CORPORA.flatMap((corpus) =>
  (JSON.parse(readFileSync(new URL('expected.json', corpus), 'utf8')) as CorpusEntry[])
    .filter((entry) => entry.variant === 'lf' && entry.split !== 'unseen' && entry.expected.length > 0)
    .map((entry) => ({ name: entry.file, raw: readFileSync(new URL(entry.file, corpus), 'latin1').replace(/\r\n/g, '\n') })),
);

const DSN_FIELD = /^(final-recipient|original-recipient|action|status|diagnostic-code|remote-mta|reporting-mta|arrival-date|last-attempt-date|received-from-mta)(\s*):/gim;

/** What the rows say, in a form two parses can be compared by. */
async function rowsOf(raw: string): Promise<string> {
  const report = await parseBounce(Buffer.from(raw, 'latin1'));
  return JSON.stringify(report && { kind: report.kind, rows: report.recipients.map((r) => [r.recipient, r.action, r.replyCode, r.status, r.reason, r.hard]) });
}

/** Quoted-printable as RFC 2045 §6.7 writes it: `=XX` for `=` and 8-bit bytes, soft breaks before 76 characters. */
function quotedPrintable(body: string): string {
  const hex = (c: string) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
  return body
    .split('\n')
    .map((line) => {
      let rest = line.replace(/[=\x80-\xff]/g, hex).replace(/[ \t]$/, hex);
      const pieces: string[] = [];
      while (rest.length > 75) {
        let cut = 75;
        while (rest[cut - 1] === '=' || rest[cut - 2] === '=') cut -= 1;
        pieces.push(`${rest.slice(0, cut)}=`);
        rest = rest.slice(cut);
      }
      return [...pieces, rest].join('\n');
    })
    .join('\n');
}

type Encoding = 'quoted-printable' | 'base64';
const ENCODINGS: readonly Encoding[] = ['quoted-printable', 'base64'];
const ALREADY_ENCODED = /^content-transfer-encoding:\s*(?:base64|quoted-printable)/im;

/**
 * One MIME entity (a message's or a part's headers, and its body) with its body in `encoding`, or
 * null when it is already encoded or `rewritable` says no.
 */
function encodedEntity(entity: string, encoding: Encoding, rewritable: (headers: string) => boolean): string | null {
  const end = entity.indexOf('\n\n');
  if (end < 0) return null;
  const headers = entity.slice(0, end);
  if (ALREADY_ENCODED.test(headers) || !rewritable(headers)) return null;
  const body = entity.slice(end + 2);
  const encoded = encoding === 'base64' ? Buffer.from(body, 'latin1').toString('base64').replace(/.{76}/g, '$&\n') : quotedPrintable(body);
  const otherHeaders = headers.replace(/^content-transfer-encoding:.*(?:\n[ \t].*)*\n?/gim, '').replace(/\n+$/, '');
  return `${otherHeaders}\nContent-Transfer-Encoding: ${encoding}\n\n${encoded}`;
}

/** The same single-part message with its body in another transfer encoding, or null for a multipart one. */
function reencoded(raw: string, encoding: Encoding): string | null {
  return encodedEntity(raw, encoding, (headers) => !/^content-type:\s*multipart/im.test(headers));
}

/** Leaf parts a report's reader decodes: its human-readable text and its machine-readable status. */
const REENCODED_PARTS = /^content-type:\s*(?:text\/plain|message\/delivery-status)\b/im;

/**
 * The same multipart report with its text and delivery-status parts (those sent as they are) in
 * another transfer encoding, or null when it has none such. Only the top-level parts are rewritten.
 */
function reencodedParts(raw: string, encoding: Encoding): string | null {
  const split = raw.indexOf('\n\n');
  // A file that opens with a blank line has no header section: it is all body, and no MIME part of it is decoded.
  if (split < 0 || /^[ \t]*\n/.test(raw)) return null;
  const boundary = /^content-type:\s*multipart\/[^\n]*(?:\n[ \t][^\n]*)*?boundary="?([^";\n]+)"?/im.exec(raw.slice(0, split))?.[1];
  if (!boundary) return null;
  const delimiter = `\n--${boundary}`;
  let changed = false;
  const pieces = raw
    .slice(split + 1)
    .split(delimiter)
    .map((piece, index) => {
      const part = index === 0 || piece.startsWith('--') ? null : encodedEntity(piece, encoding, (headers) => REENCODED_PARTS.test(headers));
      if (part !== null) changed = true;
      return part ?? piece;
    });
  return changed ? raw.slice(0, split + 1) + pieces.join(delimiter) : null;
}

/**
 * Parses every message and each of its rewrites (null: not applicable) and prints how many gave
 * the rows of the message as it is; returns the rewrites compared and those that differed.
 */
async function compareRewrites(label: string, rewrites: ReadonlyArray<[tag: string, rewrite: (raw: string) => string | null]>): Promise<{ compared: number; changed: string[] }> {
  const changed: string[] = [];
  let compared = 0;
  for (const { name, raw } of messages) {
    let original: string | null = null;
    for (const [tag, rewrite] of rewrites) {
      const variant = rewrite(raw);
      if (variant === null) continue;
      original ??= await rowsOf(raw);
      compared += 1;
      if ((await rowsOf(variant)) !== original) changed.push(`${name} (${tag})`);
    }
  }
  console.log(`bounce invariance, ${label}: ${compared - changed.length}/${compared} identical`);
  return { compared, changed };
}

describe('bounce parsing does not depend on how a message is written', () => {
  it('reads DSN field names in any case and with a space before the colon alike', async () => {
    const spelled = (spell: (field: string) => string) => (raw: string) => (raw.match(DSN_FIELD) ? raw.replace(DSN_FIELD, (_all, field: string) => spell(field)) : null);
    const { compared, changed } = await compareRewrites('DSN field spelling', [
      ['upper case', spelled((field) => `${field.toUpperCase()}:`)],
      ['lower case', spelled((field) => `${field.toLowerCase()}:`)],
      ['space before the colon', spelled((field) => `${field} :`)],
    ]);
    expect(compared).toBeGreaterThan(100);
    expect(changed).toEqual([]);
  });

  it('reads a single-part bounce sent quoted-printable or base64 as it reads it sent as it is', async () => {
    const { compared, changed } = await compareRewrites(
      'transfer encodings of single-part bounces',
      ENCODINGS.map((encoding) => [encoding, (raw: string) => reencoded(raw, encoding)]),
    );
    expect(compared).toBeGreaterThan(50);
    expect(changed).toEqual([]);
  });

  it('reads a report whose text and delivery-status parts are sent quoted-printable or base64 as it reads it sent as it is', async () => {
    const { compared, changed } = await compareRewrites(
      'transfer encodings of report parts',
      ENCODINGS.map((encoding) => [encoding, (raw: string) => reencodedParts(raw, encoding)]),
    );
    expect(compared).toBeGreaterThan(100);
    expect(changed).toEqual([]);
  });
});
