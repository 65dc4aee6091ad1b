/**
 * A small, careful MIME reader for bounces (RFC 2045, RFC 2046, RFC 3462/6522).
 *
 * Why not mailparser here: mailparser hands `message/delivery-status` over as text or as an
 * attachment depending on the sender, folds nested `message/rfc822` parts into attachments, and
 * costs several milliseconds a message. Bounce parsing needs the part structure as the sender
 * wrote it (which part is the report, which is the returned message), so this module splits the
 * raw bytes itself. Everything is linear in the input: boundaries are found with `indexOf`, there
 * is a nesting limit and a part-count limit, and no regular expression can backtrack.
 *
 * Strings are "binary" (latin1: one char per byte) until a leaf is decoded with its charset.
 */

/** Hostile input: no more nesting than this (multipart inside message/rfc822 inside ...). */
const MAX_DEPTH = 12;
/** Hostile input: no more leaf parts than this per message. */
const MAX_PARTS = 200;

export interface MimePart {
  headers: Map<string, string[]>;
  /** Lower-case `type/subtype`; `text/plain` when missing (RFC 2045 §5.2). */
  type: string;
  params: Map<string, string>;
  /** Body after transfer decoding, as a binary string. Empty for multipart containers. */
  body: string;
  /** Children of a multipart, or the single enclosed message of a message/rfc822. */
  children: MimePart[];
}

/** Splits a header block from its body. Accepts CRLF, LF and mixed line ends. */
export function splitHeaderBody(text: string): { head: string; body: string } {
  // An empty first line means no headers at all.
  if (text.startsWith('\n')) return { head: '', body: text.slice(1) };
  if (text.startsWith('\r\n')) return { head: '', body: text.slice(2) };
  let from = 0;
  for (;;) {
    const nl = text.indexOf('\n', from);
    if (nl === -1) return { head: text, body: '' };
    const next = text.charCodeAt(nl + 1);
    if (next === 0x0a) return { head: text.slice(0, nl), body: text.slice(nl + 2) };
    if (next === 0x0d && text.charCodeAt(nl + 2) === 0x0a) return { head: text.slice(0, nl), body: text.slice(nl + 3) };
    from = nl + 1;
  }
}

/** Parses a header block into lower-case names and unfolded values. Lines without a name are skipped. */
export function parseHeaderBlock(head: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  let name = '';
  let value = '';
  const flush = (): void => {
    if (!name) return;
    const v = value.trim();
    const list = fields.get(name);
    if (list) list.push(v);
    else fields.set(name, [v]);
  };
  for (const rawLine of head.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line === '') continue;
    const c = line.charCodeAt(0);
    if ((c === 0x20 || c === 0x09) && name) {
      value += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    // RFC 5322 §2.2: a field name is printable ASCII without spaces; anything else is not a field.
    if (colon <= 0 || colon > 76 || /[\s]/.test(line.slice(0, colon))) {
      // Broken folding (a parameter on its own unindented line, as some mailers write
      // `boundary="..."`) continues the previous field.
      if (name && colon === -1 && line.includes('=')) value += ' ' + line.trim();
      continue;
    }
    flush();
    name = line.slice(0, colon).toLowerCase();
    value = line.slice(colon + 1);
  }
  flush();
  return fields;
}

/** The first value of a header, or ''. */
export function headerValue(headers: ReadonlyMap<string, string[]>, name: string): string {
  return headers.get(name)?.[0] ?? '';
}

/** Parses `type/subtype; a=b; c="d"` (RFC 2045 §5.1) without regular-expression backtracking. */
export function parseContentType(value: string): { type: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  // The type ends at ';' or, when a sender forgot the ';' before a folded parameter, at whitespace.
  const start = value.length - value.trimStart().length;
  let end = start;
  while (end < value.length && value[end] !== ';' && value[end] !== ' ' && value[end] !== '\t' && value[end] !== '\r' && value[end] !== '\n') end++;
  const type = value.slice(start, end).toLowerCase();
  let i = end;
  while (i < value.length) {
    while (i < value.length && (value[i] === ' ' || value[i] === '\t' || value[i] === ';')) i++;
    const eq = value.indexOf('=', i);
    if (eq === -1) break;
    const key = value.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i++;
    let v = '';
    if (value[i] === '"') {
      i++;
      while (i < value.length && value[i] !== '"') {
        if (value[i] === '\\' && i + 1 < value.length) i++;
        v += value[i];
        i++;
      }
      i++;
    } else {
      const end = value.indexOf(';', i);
      v = (end === -1 ? value.slice(i) : value.slice(i, end)).trim();
      i = end === -1 ? value.length : end;
    }
    // RFC 2231 continuations (boundary*0=...) are rare in bounces; keep the first piece.
    const plain = key.replace(/\*\d*\*?$/, '');
    if (key && !params.has(plain)) params.set(plain, v);
  }
  return { type: type.includes('/') ? type : type === '' ? 'text/plain' : type, params };
}

/** Decodes quoted-printable (RFC 2045 §6.7), tolerant of bare LF and stray `=`. */
export function decodeQuotedPrintable(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq === -1) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, eq);
    const a = text[eq + 1];
    if (a === '\n') {
      i = eq + 2;
    } else if (a === '\r' && text[eq + 2] === '\n') {
      i = eq + 3;
    } else {
      const hex = text.slice(eq + 1, eq + 3);
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        out += String.fromCharCode(parseInt(hex, 16));
        i = eq + 3;
      } else {
        out += '=';
        i = eq + 1;
      }
    }
  }
  return out;
}

function decodeTransfer(body: string, encoding: string): string {
  const enc = encoding.trim().toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64').toString('latin1');
  if (enc === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
}

const decoders = new Map<string, TextDecoder | null>();

/** Decodes a binary string in a charset; unknown charsets are read as UTF-8, then latin1. */
export function decodeCharset(binary: string, charset: string | undefined): string {
  const label = (charset ?? '').trim().toLowerCase() || 'utf-8';
  let decoder = decoders.get(label);
  if (decoder === undefined) {
    try {
      decoder = new TextDecoder(label === 'us-ascii' || label === 'ascii' ? 'utf-8' : label);
    } catch (err) {
      // A charset label TextDecoder does not know is hostile or misspelt input, not a failure.
      if (!(err instanceof RangeError)) throw err;
      decoder = null;
    }
    if (decoders.size < 64) decoders.set(label, decoder);
  }
  const bytes = Buffer.from(binary, 'latin1');
  const text = (decoder ?? utf8).decode(bytes);
  return text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
}
const utf8 = new TextDecoder('utf-8');

/** RFC 2047 encoded words in a header value, decoded; anything malformed is left as written. */
export function decodeEncodedWords(value: string): string {
  // Already-decoded text (characters above U+00FF) is not a binary string: keep it as it is.
  if (/[^\u0000-\u00ff]/.test(value)) return value;
  if (!value.includes('=?')) return decodeCharset(value, 'utf-8');
  const joined = value.replace(/\?=\s+=\?/g, '?==?');
  let out = '';
  let i = 0;
  while (i < joined.length) {
    const start = joined.indexOf('=?', i);
    if (start === -1) break;
    const q1 = joined.indexOf('?', start + 2);
    const q2 = q1 === -1 ? -1 : joined.indexOf('?', q1 + 1);
    const end = q2 === -1 ? -1 : joined.indexOf('?=', q2 + 1);
    if (q1 === -1 || q2 === -1 || end === -1 || q2 - q1 !== 2) {
      out += decodeCharset(joined.slice(i, start + 2), 'utf-8');
      i = start + 2;
      continue;
    }
    out += decodeCharset(joined.slice(i, start), 'utf-8');
    const charset = joined.slice(start + 2, q1).split('*')[0];
    const mode = joined[q1 + 1]!.toLowerCase();
    const payload = joined.slice(q2 + 1, end);
    const binary =
      mode === 'b'
        ? Buffer.from(payload, 'base64').toString('latin1')
        : decodeQuotedPrintable(payload.replaceAll('_', ' '));
    out += decodeCharset(binary, charset);
    i = end + 2;
  }
  out += decodeCharset(joined.slice(i), 'utf-8');
  return out;
}

/** Parses a whole message (binary string) into a part tree. Never throws. */
export function parseMime(binary: string): MimePart {
  const counter = { parts: 0 };
  return parseEntity(binary, 0, counter, 'text/plain');
}

function parseEntity(text: string, depth: number, counter: { parts: number }, defaultType: string): MimePart {
  const { head, body } = splitHeaderBody(text);
  const headers = parseHeaderBlock(head);
  return buildPart(headers, body, depth, counter, defaultType);
}

function buildPart(
  headers: Map<string, string[]>,
  rawBody: string,
  depth: number,
  counter: { parts: number },
  defaultType: string,
): MimePart {
  counter.parts++;
  const ct = headers.get('content-type')?.[0];
  const { type, params } = ct ? parseContentType(ct) : { type: defaultType, params: new Map<string, string>() };
  const part: MimePart = { headers, type, params, body: '', children: [] };
  const boundary = params.get('boundary');
  if (type.startsWith('multipart/') && boundary && depth < MAX_DEPTH) {
    const childDefault = type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
    const pieces = splitMultipart(rawBody, boundary);
    if (pieces.length > 0) {
      for (const piece of pieces) {
        if (counter.parts >= MAX_PARTS) break;
        part.children.push(parseEntity(piece, depth + 1, counter, childDefault));
      }
      return part;
    }
    // A multipart with no boundary line at all: keep the text so heuristics can still read it.
    part.body = rawBody;
    return part;
  }
  const decoded = decodeTransfer(rawBody, headerValue(headers, 'content-transfer-encoding'));
  part.body = decoded;
  if ((type === 'message/rfc822' || type === 'message/global') && depth < MAX_DEPTH && counter.parts < MAX_PARTS) {
    part.children.push(parseEntity(decoded, depth + 1, counter, 'text/plain'));
  }
  return part;
}

/**
 * The bodies between `--boundary` delimiter lines (RFC 2046 §5.1.1). A missing close delimiter is
 * tolerated (truncated bounces are common), and so is trailing white space after a delimiter.
 */
export function splitMultipart(body: string, boundary: string): string[] {
  const delimiter = '--' + boundary;
  const starts: Array<{ lineStart: number; contentStart: number; close: boolean }> = [];
  let from = 0;
  while (from < body.length) {
    const at = body.indexOf(delimiter, from);
    if (at === -1) break;
    const atLineStart = at === 0 || body.charCodeAt(at - 1) === 0x0a;
    const after = at + delimiter.length;
    if (!atLineStart) {
      from = after;
      continue;
    }
    const close = body.startsWith('--', after);
    let eol = body.indexOf('\n', after);
    if (eol === -1) eol = body.length;
    // The rest of the delimiter line must be blank (or the close marker), else it is just text.
    const rest = body.slice(close ? after + 2 : after, eol).trim();
    if (rest !== '') {
      from = after;
      continue;
    }
    starts.push({ lineStart: at, contentStart: Math.min(eol + 1, body.length), close });
    if (close) break;
    from = eol + 1;
  }
  const pieces: string[] = [];
  for (let k = 0; k < starts.length; k++) {
    const s = starts[k]!;
    if (s.close) break;
    const next = starts[k + 1];
    let end = next ? next.lineStart : body.length;
    // The line break before a delimiter belongs to the delimiter.
    if (next) {
      if (body.charCodeAt(end - 1) === 0x0a) end--;
      if (body.charCodeAt(end - 1) === 0x0d) end--;
    }
    pieces.push(body.slice(s.contentStart, Math.max(s.contentStart, end)));
  }
  return pieces;
}

/** All parts in document order (depth first), including containers. */
export function walkParts(root: MimePart): MimePart[] {
  const out: MimePart[] = [];
  const stack: MimePart[] = [root];
  while (stack.length > 0) {
    const part = stack.pop()!;
    out.push(part);
    for (let i = part.children.length - 1; i >= 0; i--) stack.push(part.children[i]!);
  }
  return out;
}

/** Decoded text of a leaf part, in its declared charset. */
export function partText(part: MimePart): string {
  return decodeCharset(part.body, part.params.get('charset'));
}
