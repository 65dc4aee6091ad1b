import { describe, expect, it } from 'vitest';
import { rawHeaderValue } from '../../parsers/raw-header.js';

/** What rawHeaderValue gave when it decoded 64 KB and searched the text for the empty line. */
function byTextSearch(raw: Buffer, name: string): string {
  const head = raw.subarray(0, 64 * 1024).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const block = end === -1 ? head : head.slice(0, end);
  const match = new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(block);
  return match ? match[1]!.replace(/\r?\n[ \t]+/g, ' ').trim() : '';
}

const cases: Array<[string, string]> = [
  ['CRLF', 'From: a@x\r\nSubject: hi\r\n\r\nSubject: in body\r\n'],
  ['LF', 'From: a@x\nSubject: hi\n\nSubject: in body\n'],
  ['CR LF LF', 'From: a@x\r\n\nSubject: in body\r\n'],
  ['LF CR LF', 'From: a@x\n\r\nSubject: in body\r\n'],
  ['folded', 'Subject: one\r\n two\r\n\tthree\r\nFrom: a@x\r\n\r\nbody'],
  ['empty first line', '\r\nSubject: in body\r\n'],
  ['no empty line', 'From: a@x\r\nSubject: hi'],
  ['header past 64 KB', `X-Pad: ${'p'.repeat(70_000)}\r\nSubject: late\r\n\r\n`],
  ['field name in a value', 'X-Note: Subject: no\r\nsubject: yes\r\n\r\n'],
];

describe('rawHeaderValue', () => {
  it.each(cases)('reads the header block as the text search did (%s)', (_name, text) => {
    const raw = Buffer.from(text, 'latin1');
    for (const field of ['Subject', 'From', 'X-Note']) expect(rawHeaderValue(raw, field)).toBe(byTextSearch(raw, field));
  });
});
