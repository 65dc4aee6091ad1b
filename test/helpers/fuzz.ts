/**
 * Seeded mutation of raw messages for robustness tests. Everything is reproducible from the seed:
 * a failing case prints its seed, index and operators, and `mutateMessage(new Rng(seed)…)` gives
 * the same bytes again.
 */

/** mulberry32: small, fast, and good enough to drive mutations (not for anything secret). */
export class Rng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * Math.max(0, n));
  }

  /** An integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i += 1) out[i] = this.int(256);
    return out;
  }
}

export interface MutationContext {
  rng: Rng;
  /** Other messages, for splicing. */
  corpus: readonly Buffer[];
}

export type Mutator = (input: Buffer, ctx: MutationContext) => Buffer;

// Text-level operators work on latin1 strings: one char per byte, so every byte survives.
const text = (b: Buffer) => b.toString('latin1');
const bytes = (s: string) => Buffer.from(s, 'latin1');

/** Where the header block ends (index of the blank line), or the whole length. */
function headerEnd(s: string): number {
  const crlf = s.indexOf('\r\n\r\n');
  const lf = s.indexOf('\n\n');
  const found = [crlf, lf].filter((i) => i >= 0);
  return found.length > 0 ? Math.min(...found) : s.length;
}

/** Start offsets of every line. */
function lineStarts(s: string, from = 0, to = s.length): number[] {
  const starts = [from];
  for (let i = s.indexOf('\n', from); i !== -1 && i < to - 1; i = s.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function lineAt(s: string, start: number): { start: number; end: number } {
  const nl = s.indexOf('\n', start);
  return { start, end: nl === -1 ? s.length : nl + 1 };
}

const CHARSETS = [
  'utf-8', 'UTF-8', 'iso-8859-1', 'windows-1252', 'koi8-r', 'iso-2022-jp', 'shift_jis', 'euc-kr', 'gb2312', 'big5',
  'utf-16', 'utf-16le', 'utf-7', 'utf-32', 'x-unknown', 'us-ascii', '', '"', 'utf-8"; charset="latin1', 'ibm-1047',
  'x-mac-roman', 'tis-620', 'iso-8859-8-i', 'unicode-1-1-utf-7', '\u00ff\u00fe', 'a'.repeat(300),
];

const HEADER_NAMES = ['From', 'To', 'Cc', 'Subject', 'Message-ID', 'In-Reply-To', 'References', 'Content-Type', 'Content-Transfer-Encoding', 'Date', 'MIME-Version', 'Auto-Submitted', 'Return-Path', 'Received'];

const HOSTILE_VALUES = [
  '=?utf-8?B?' + 'A'.repeat(50) + '?=', '=?x?Q?=FF=00?=', '=?utf-8?q?broken', '<<<>>>', '"unterminated', '(((comment', '\u0000\u0001\u0002',
  '<a@b> <c@d> <e@f>', 'multipart/mixed; boundary=""', 'multipart/alternative; boundary', 'message/rfc822', 'text/plain; charset=',
  'base64', 'quoted-printable', 'x-uuencode', '8bit', 'Thu, 31 Feb 99999 25:61:61 +9999', '\u00e9\u00e8\u00ff\u00c3\u00a9', ' \t ',
];

export const mutators: Record<string, Mutator> = {
  bitFlip(input, { rng }) {
    if (input.length === 0) return input;
    const out = Buffer.from(input);
    for (let n = rng.range(1, 8); n > 0; n -= 1) {
      const at = rng.int(out.length);
      out[at] = out[at]! ^ (1 << rng.int(8));
    }
    return out;
  },

  insertBytes(input, { rng }) {
    const at = rng.int(input.length + 1);
    return Buffer.concat([input.subarray(0, at), rng.bytes(rng.range(1, 64)), input.subarray(at)]);
  },

  deleteBytes(input, { rng }) {
    if (input.length === 0) return input;
    const at = rng.int(input.length);
    return Buffer.concat([input.subarray(0, at), input.subarray(Math.min(input.length, at + rng.range(1, 256)))]);
  },

  truncate(input, { rng }) {
    return input.subarray(0, rng.int(input.length + 1));
  },

  duplicateSlice(input, { rng }) {
    if (input.length === 0) return input;
    const start = rng.int(input.length);
    const slice = input.subarray(start, Math.min(input.length, start + rng.range(1, 4096)));
    const copies = rng.range(1, 8);
    const at = rng.int(input.length + 1);
    return Buffer.concat([input.subarray(0, at), ...Array.from({ length: copies }, () => slice), input.subarray(at)]);
  },

  /** The head of one message on the tail of another: mismatched boundaries and encodings. */
  splice(input, { rng, corpus }) {
    const other = rng.pick(corpus);
    return Buffer.concat([input.subarray(0, rng.int(input.length + 1)), other.subarray(rng.int(other.length + 1))]);
  },

  corruptBoundary(input, { rng }) {
    const s = text(input);
    const match = /boundary\s*=\s*"?([^";\r\n]+)"?/i.exec(s);
    if (!match) return mutators.insertBytes!(input, { rng, corpus: [] });
    const boundary = match[1]!;
    const variants = [
      '', boundary.slice(0, -1), `${boundary}x`, boundary.toUpperCase(), `${boundary}--`, '-'.repeat(70), `${boundary} `, 'a'.repeat(5000),
    ];
    const replacement = rng.pick(variants);
    switch (rng.int(4)) {
      case 0: // the declared boundary no longer matches the delimiters
        return bytes(s.slice(0, match.index) + `boundary="${replacement}"` + s.slice(match.index + match[0].length));
      case 1: // every delimiter changed
        return bytes(s.split(`--${boundary}`).join(`--${replacement}`));
      case 2: // the closing delimiter removed
        return bytes(s.split(`--${boundary}--`).join(''));
      default: // delimiters nested into themselves
        return bytes(s.split(`--${boundary}`).join(`--${boundary}\r\n--${boundary}`));
    }
  },

  mangleHeaderLine(input, { rng }) {
    const s = text(input);
    const end = headerEnd(s);
    const starts = lineStarts(s, 0, end);
    const line = lineAt(s, rng.pick(starts));
    const content = s.slice(line.start, line.end);
    const colon = content.indexOf(':');
    const options = [
      () => content.replace(':', ''), // no colon
      () => ` ${content}`, // a continuation with nothing to continue
      () => content + content, // the header twice
      () => (colon > 0 ? `${content.slice(0, colon)} \t:${content.slice(colon + 1)}` : content), // space before the colon
      () => content.replace(/\r?\n$/, '\r'), // a bare CR
      () => content.replace(/\r?\n$/, ''), // two lines glued together
      () => `${rng.pick(HEADER_NAMES)}: ${rng.pick(HOSTILE_VALUES)}\r\n${content}`,
      () => (colon > 0 ? `${content.slice(0, colon + 1)} ${rng.pick(HOSTILE_VALUES)}\r\n` : content),
      () => `${content}\t${'folded '.repeat(rng.range(1, 200))}\r\n`,
    ];
    return bytes(s.slice(0, line.start) + rng.pick(options)() + s.slice(line.end));
  },

  hugeHeaderLine(input, { rng }) {
    const s = text(input);
    const size = rng.pick([1000, 10_000, 100_000, 300_000]);
    const name = rng.pick(HEADER_NAMES);
    const unit = rng.pick(['x', '<a@b> ', '=?utf-8?B?w6k=?= ', '\u00e9', ',', '(', '"']);
    const value = unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
    const at = rng.pick(lineStarts(s, 0, headerEnd(s)));
    return bytes(`${s.slice(0, at)}${name}: ${value}\r\n${s.slice(at)}`);
  },

  nulBytes(input, { rng }) {
    const out = Buffer.from(input);
    for (let n = rng.range(1, 16); n > 0 && out.length > 0; n -= 1) out[rng.int(out.length)] = 0;
    if (rng.chance(0.3)) return Buffer.concat([out, Buffer.alloc(rng.range(1, 2048))]);
    return out;
  },

  randomCharset(input, { rng }) {
    const s = text(input);
    const charset = rng.pick(CHARSETS);
    if (/charset\s*=/i.test(s)) {
      return bytes(s.replace(/charset\s*=\s*"?[^";\r\n]*"?/gi, (found) => (rng.chance(0.6) ? `charset="${charset}"` : found)));
    }
    const end = headerEnd(s);
    return bytes(`${s.slice(0, end)}\r\nContent-Type: text/plain; charset="${charset}"${s.slice(end)}`);
  },

  brokenBase64(input, { rng }) {
    const s = text(input);
    const declared = /content-transfer-encoding:\s*base64/i.exec(s);
    if (!declared) {
      // Claim base64 for a body that is not.
      const end = headerEnd(s);
      return bytes(`${s.slice(0, end)}\r\nContent-Transfer-Encoding: base64${s.slice(end)}`);
    }
    const bodyStart = headerEnd(s.slice(declared.index)) + declared.index;
    const at = Math.min(s.length, bodyStart + 2 + rng.int(400));
    const junk = rng.pick(['!!!!', '====', '=', 'A', '\u00ff\u00fe', '%%\r\n%%', '-'.repeat(80), 'QUJD\u0000REVG', '\r\n.\r\n']);
    return bytes(s.slice(0, at) + junk + s.slice(Math.min(s.length, at + rng.int(8))));
  },

  brokenQuotedPrintable(input, { rng }) {
    const s = text(input);
    const declared = /content-transfer-encoding:\s*quoted-printable/i.exec(s);
    if (!declared) {
      const end = headerEnd(s);
      return bytes(`${s.slice(0, end)}\r\nContent-Transfer-Encoding: quoted-printable${s.slice(end)}=Z=\r\n=4=\r\n=`);
    }
    const after = declared.index + declared[0].length;
    const at = after + rng.int(Math.max(1, s.length - after));
    const junk = rng.pick(['=', '=Z', '=4', '=\r', '=\n', '=\r\n=\r\n=', '=FF=FE=00', '=' + 'x'.repeat(2000), '=3D=3D=3']);
    return bytes(s.slice(0, at) + junk + s.slice(at));
  },

  /** Line ends of one message made inconsistent: CRLF, LF and bare CR mixed. */
  mixLineEnds(input, { rng }) {
    return bytes(text(input).replace(/\r?\n/g, () => rng.pick(['\r\n', '\n', '\r', '\n\r'])));
  },

  /** A deep or wide multipart tree around the message. */
  nestMultipart(input, { rng }) {
    const depth = rng.pick([2, 10, 50, 200]);
    let body = text(input);
    for (let i = 0; i < depth; i += 1) {
      body = `Content-Type: multipart/mixed; boundary="n${i}"\r\n\r\n--n${i}\r\n${body}\r\n--n${i}--\r\n`;
    }
    return bytes(`From: a@b.example\r\nSubject: nested\r\nMIME-Version: 1.0\r\n${body}`);
  },
};

export const MUTATOR_NAMES = Object.keys(mutators);

export interface Mutation {
  bytes: Buffer;
  /** The operators applied, in order, for the failure message. */
  ops: string[];
}

/** Applies one to three random operators to `input`. */
export function mutateMessage(rng: Rng, input: Buffer, corpus: readonly Buffer[]): Mutation {
  let out = input;
  const ops: string[] = [];
  for (let n = rng.range(1, 3); n > 0; n -= 1) {
    const name = rng.pick(MUTATOR_NAMES);
    out = mutators[name]!(out, { rng, corpus });
    ops.push(name);
  }
  return { bytes: out, ops };
}

/** The `i`-th case of a seeded run: its own generator, so any case can be replayed alone. */
export function fuzzCase(seed: number, i: number, corpus: readonly Buffer[]): Mutation & { source: number } {
  const rng = new Rng((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
  const source = rng.int(corpus.length);
  return { ...mutateMessage(rng, corpus[source]!, corpus), source };
}
