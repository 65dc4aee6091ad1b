import { describe, expect, it } from 'vitest';
import { createStructureWatch } from '../../parsers/mime-structure.js';

const LIMITS = { maxHeaderLineBytes: 9980, maxHeaderBlockBytes: 1024 * 1024, maxParts: 100, maxDepth: 8 };

/** Feeds a message in small, odd-sized chunks, as a network would. */
function watch(message: string, limits = LIMITS): string | null {
  const w = createStructureWatch(limits);
  const bytes = Buffer.from(message, 'latin1');
  for (let i = 0; i < bytes.length; i += 997) w.push(bytes.subarray(i, i + 997));
  return w.problem();
}

function nested(depth: number): string {
  let body = 'Content-Type: text/plain\r\n\r\nhello\r\n';
  for (let i = depth; i >= 1; i -= 1) body = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${body}--b${i}--\r\n`;
  return `From: a@b.example\r\nSubject: x\r\n${body}`;
}

function manyParts(count: number): string {
  const parts = Array.from({ length: count }, (_, i) => `--sep\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`).join('');
  return `From: a@b.example\r\nContent-Type: multipart/mixed;\r\n boundary="sep"\r\n\r\n${parts}--sep--\r\n`;
}

describe('MIME structure limits while a message arrives', () => {
  it('lets ordinary mail through, long body lines included', () => {
    expect(watch(`From: a@b.example\r\nSubject: hi\r\n\r\n${'x'.repeat(50_000)}\r\n`)).toBeNull();
    expect(watch(nested(8))).toBeNull();
    expect(watch(manyParts(100))).toBeNull();
  });

  it('refuses a header line of 10 MB, as soon as it passes the limit', () => {
    const w = createStructureWatch(LIMITS);
    w.push(Buffer.from(`From: a@b.example\r\nX-Long: ${'a'.repeat(20_000)}`));
    expect(w.problem()).toBe('a header line is longer than 9980 bytes');
  });

  it('refuses a header block over the limit made of short lines', () => {
    expect(watch(`From: a@b.example\r\n${'X-A: b\r\n'.repeat(200_000)}\r\nbody\r\n`)).toBe('the header is larger than 1048576 bytes');
  });

  it('refuses nesting deeper than the limit, and parts past the limit (folded boundary parameter)', () => {
    expect(watch(nested(9))).toBe('MIME parts are nested more than 8 deep');
    expect(watch(manyParts(101))).toBe('the message has more than 100 MIME parts');
  });

  it('finds boundaries split over chunks of one byte, and skips body lines that only start like one', () => {
    const byteByByte = (message: string): string | null => {
      const w = createStructureWatch(LIMITS);
      for (const byte of Buffer.from(message, 'latin1')) w.push(Buffer.from([byte]));
      return w.problem();
    };
    expect(byteByByte(manyParts(101))).toBe('the message has more than 100 MIME parts');
    expect(byteByByte(nested(9))).toBe('MIME parts are nested more than 8 deep');
    const lookalikes = manyParts(100).replace(/part (\d+)\r\n/g, 'part $1\r\n-\r\n--\r\n--se\r\n-sep\r\n');
    expect(watch(lookalikes)).toBeNull();
    expect(byteByByte(lookalikes)).toBeNull();
  });

  it('counts a message inside a part as a level', () => {
    const inner = nested(7).replace('From: a@b.example\r\nSubject: x\r\n', '');
    const message = `From: a@b.example\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n${inner}--outer--\r\n`;
    expect(watch(message)).toBe('MIME parts are nested more than 8 deep');
  });
});
