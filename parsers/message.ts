import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { AddressObject, EmailAddress } from 'mailparser';
import { readMail } from './mail-reader.js';
import { normalizeMessageId, parseMessageIdList } from './threading.js';
import { extractVisibleReply, extractVisibleReplyFromHtml } from './visible-reply.js';

/** One mailbox of an address header. */
export interface ParsedAddress {
  address: string;
  name: string;
}

export interface ParsedAttachment {
  /** Position among the message's attachments (for reading its bytes again, see readAttachmentContents). */
  partIndex: number;
  /** As the sender named it, with path separators and control characters replaced by `_`. */
  filename: string | null;
  contentType: string;
  size: number;
  sha256: string;
  contentId: string | null;
  disposition: string | null;
  /** The decoded bytes; null when parsed without them (large messages: see readAttachmentContents). */
  content: Buffer | null;
}

/** What mailroom needs of a message; the only shape of a message outside this file. */
export interface ParsedMessage {
  subject: string;
  from: ParsedAddress | null;
  to: ParsedAddress[];
  cc: ParsedAddress[];
  replyTo: ParsedAddress[];
  /** From the Date header; null when it is missing or unreadable (never the time of parsing). */
  date: Date | null;
  /** Without angle brackets. */
  messageId: string | null;
  inReplyTo: string[];
  references: string[];
  text: string;
  html: string | null;
  /** The customer's new words: quoted history and signature removed. */
  visibleText: string;
  contentType: string | null;
  /** Lower-case header name to unfolded values, in order. */
  headers: Map<string, string[]>;
  attachments: ParsedAttachment[];
  /** sha256 of the bytes after the header block: equal for one message relayed twice. */
  bodyHash: string;
}

export type ParseResult = { ok: true; message: ParsedMessage } | { ok: false; error: string };

export interface ParseOptions {
  /**
   * Keep each attachment's decoded bytes in memory. Large messages are parsed without them and
   * their bytes are streamed to storage later by readAttachmentContents. @defaultValue true
   */
  keepAttachmentContent?: boolean;
}

/** Parses raw RFC 5322 bytes. Never throws: a message it cannot read comes back as `ok: false`. */
export async function parseMessage(raw: Buffer, options: ParseOptions = {}): Promise<ParseResult> {
  try {
    const mail = await readMail(prepareForMailparser(raw), { keepAttachmentContent: options.keepAttachmentContent ?? true });
    const headers = collectHeaders(mail.headerLines);
    const text = withoutNul(mail.text ?? '');
    const html = typeof mail.html === 'string' ? withoutNul(mail.html) : null;
    const message: ParsedMessage = {
      subject: withoutNul(mail.subject ?? ''),
      from: firstAddress(mail.from),
      to: flattenAddresses(mail.to),
      cc: flattenAddresses(mail.cc),
      replyTo: flattenAddresses(mail.replyTo),
      date: parseDate(headers.get('date')?.[0]),
      messageId: firstMessageId(headers.get('message-id')?.[0]),
      inReplyTo: parseMessageIdList(headers.get('in-reply-to') ?? null),
      references: parseMessageIdList(headers.get('references') ?? null),
      text,
      html,
      visibleText: text.trim() ? extractVisibleReply(text) : html ? extractVisibleReplyFromHtml(html) : '',
      contentType: headers.get('content-type')?.[0] ?? null,
      headers,
      attachments: mail.attachments.map((attachment) => ({
        partIndex: attachment.partIndex,
        filename: safeFilename(attachment.filename),
        contentType: withoutNul(attachment.contentType || '') || 'application/octet-stream',
        size: attachment.size,
        sha256: attachment.sha256,
        contentId: normalizeMessageId(withoutNul(attachment.contentId ?? attachment.cid ?? '')),
        disposition: attachment.contentDisposition ? withoutNul(attachment.contentDisposition) : null,
        content: attachment.content,
      })),
      bodyHash: hashBody(raw),
    };
    return { ok: true, message };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Streams the decoded bytes of the attachments at `partIndexes` (ParsedAttachment.partIndex) to
 * `onPiece`, in order, by parsing the message again: one attachment's bytes at a time in memory,
 * never all of them.
 */
export async function readAttachmentContents(
  raw: Buffer,
  partIndexes: ReadonlySet<number>,
  onPiece: (partIndex: number, piece: Buffer) => Promise<void>,
): Promise<void> {
  await readMail(prepareForMailparser(raw), {
    keepAttachmentContent: false,
    onAttachmentPiece: (partIndex, piece) => (partIndexes.has(partIndex) ? onPiece(partIndex, piece) : undefined),
  });
}

function prepareForMailparser(raw: Buffer): Buffer {
  return withBodySeparator(withUtf8Headers(raw));
}

function collectHeaders(lines: ReadonlyArray<{ key: string; line: string }>): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  for (const { key, line: binaryLine } of lines) {
    // mailparser hands header lines over as binary strings, one char per byte; the bytes are
    // UTF-8 (RFC 6532, and withUtf8Headers made sure of it), so decode them as such.
    const line = Buffer.from(binaryLine, 'latin1').toString('utf8');
    const colon = line.indexOf(':');
    const value = withoutNul((colon === -1 ? '' : line.slice(colon + 1)).replace(/\r?\n[ \t]+/g, ' ').trim());
    const name = withoutNul(Buffer.from(key, 'latin1').toString('utf8')).toLowerCase();
    // A line that is not a header field (no name before a colon) is not kept under an empty name.
    if (name === '') continue;
    const values = headers.get(name);
    if (values) values.push(value);
    else headers.set(name, [value]);
  }
  return headers;
}

function flattenAddresses(field: AddressObject | AddressObject[] | undefined): ParsedAddress[] {
  if (!field) return [];
  const out: ParsedAddress[] = [];
  const visit = (entries: EmailAddress[]): void => {
    for (const entry of entries) {
      if (entry.group) visit(entry.group);
      else if (entry.address) out.push({ address: withoutNul(entry.address), name: withoutNul(entry.name ?? '') });
    }
  };
  for (const object of Array.isArray(field) ? field : [field]) visit(object.value);
  return out;
}

function firstAddress(field: AddressObject | AddressObject[] | undefined): ParsedAddress | null {
  return flattenAddresses(field)[0] ?? null;
}

/**
 * mailparser 3.9.31 never settles on a header-only message whose header block is not closed by
 * an empty line when its type is message/rfc822 (found by fuzzing). RFC 5322 §3.5 makes the body
 * optional, so closing the header block changes nothing else.
 */
function withBodySeparator(raw: Buffer): Buffer {
  if (bodyStart(raw) < raw.length || raw.length === 0) return raw;
  const last = raw[raw.length - 1];
  return Buffer.concat([raw, Buffer.from(last === 0x0a ? '\r\n' : '\r\n\r\n')]);
}

function hashBody(raw: Buffer): string {
  return createHash('sha256').update(raw.subarray(bodyStart(raw))).digest('hex');
}

/**
 * Index of the first body byte: just after the first empty line (RFC 5322 §2.1), or the end when
 * there is none. Line endings may be CRLF, LF or mixed (`\r\n\n`, `\n\r\n`), as mailparser accepts.
 */
function bodyStart(raw: Buffer): number {
  let lineStart = 0;
  while (lineStart < raw.length) {
    if (raw[lineStart] === 0x0a) return lineStart + 1;
    if (raw[lineStart] === 0x0d && raw[lineStart + 1] === 0x0a) return lineStart + 2;
    const newline = raw.indexOf(0x0a, lineStart);
    if (newline === -1) break;
    lineStart = newline + 1;
  }
  return raw.length;
}

/**
 * RFC 6532 allows raw 8-bit header bytes only as UTF-8, but old clients still write raw legacy
 * bytes (an accented Subject with no encoded-word, a Big5 subject from a Big5 mailer). mailparser
 * reads header bytes as UTF-8 and would turn those into U+FFFD, so every top-level header line
 * that is not valid UTF-8 is re-encoded as UTF-8, read in the charset the message declares for its
 * text, as mail clients do, else as windows-1252. Valid UTF-8 lines and the body are untouched.
 */
function withUtf8Headers(raw: Buffer): Buffer {
  const end = bodyStart(raw);
  if (isUtf8(raw.subarray(0, end))) return raw;
  const decode = legacyDecoder(declaredCharset(raw));
  const pieces: Buffer[] = [];
  for (let start = 0; start < end; ) {
    const newline = raw.indexOf(0x0a, start);
    const stop = newline === -1 || newline >= end ? end : newline + 1;
    const line = raw.subarray(start, stop);
    pieces.push(isUtf8(line) ? line : Buffer.from(decode(line), 'utf8'));
    start = stop;
  }
  pieces.push(raw.subarray(end));
  return Buffer.concat(pieces);
}

/** How far into a message to look for a declared charset; text parts come before attachments. */
const CHARSET_SCAN_BYTES = 64 * 1024;

/** The charset of the top-level Content-Type, else of the first part that declares one. */
function declaredCharset(raw: Buffer): string | null {
  const text = raw.subarray(0, CHARSET_SCAN_BYTES).toString('latin1').replace(/\r?\n[ \t]+/g, ' ');
  return /^content-type:[^\n]*?;\s*charset\s*=\s*"?([a-z0-9_.:-]+)/im.exec(text)?.[1]?.toLowerCase() ?? null;
}

/**
 * Declared charsets that say nothing useful about raw 8-bit header bytes, so windows-1252 reads
 * them: the ISO-8859-1 family (WHATWG maps those labels to windows-1252 anyway), ASCII, UTF-8
 * (the bytes just failed to be UTF-8) and UTF-16/32 (header lines are never in those).
 */
const WINDOWS_1252_FALLBACK =
  /^(us-ascii|ascii|utf-?8|utf-?16.*|utf-?32.*|iso-?8859-1|latin-?1|l1|cp1252|windows-1252|cp819)$/;

function legacyDecoder(charset: string | null): (bytes: Buffer) => string {
  if (charset && !WINDOWS_1252_FALLBACK.test(charset)) {
    try {
      const decoder = new TextDecoder(charset);
      return (bytes) => decoder.decode(bytes);
    } catch (err) {
      // TextDecoder throws RangeError for a label it does not know (hostile or misspelt
      // charset); that is input, not a failure, and windows-1252 below is the fallback.
      if (!(err instanceof RangeError)) throw err;
    }
  }
  return decodeWindows1252;
}

// Node's TextDecoder('windows-1252') decodes as ISO-8859-1, so 0x80-0x9f is mapped here.
const WINDOWS_1252_80_9F =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

function decodeWindows1252(bytes: Buffer): string {
  return bytes.toString('latin1').replace(/[\u0080-\u009f]/g, (c) => WINDOWS_1252_80_9F[c.charCodeAt(0) - 0x80]!);
}

/**
 * The Date header as an instant, or null. mailparser substitutes the current time for a Date it
 * cannot read, which would make parsing depend on the clock; a missing date is honest.
 */
function parseDate(value: string | undefined): Date | null {
  if (!value) return null;
  for (const candidate of [value, value.replace(/\([^()]*\)/g, ' ').trim()]) {
    const date = new Date(candidate);
    if (!Number.isNaN(date.getTime())) return date;
  }
  return null;
}

/**
 * The id of a Message-ID header. Read from the raw value: mailparser only adds missing brackets,
 * so `<id@host> (comment)` came out as `id@host> (comment)`.
 */
function firstMessageId(value: string | undefined): string | null {
  if (!value) return null;
  return parseMessageIdList(value)[0] ?? normalizeMessageId(value);
}

/**
 * A filename safe to show and to offer for download. It comes from the sender (Content-Disposition
 * or Content-Type name, possibly encoded-words), so a hostile one may carry path separators
 * (`../../x`), line breaks that could split a header we later write, or NUL. Those become `_`.
 */
function safeFilename(value: string | undefined): string | null {
  if (!value) return null;
  const cleaned = value.replace(/[\u0000-\u001f\u007f-\u009f/\\]/g, '_').trim();
  return cleaned.length > 0 ? cleaned : null;
}

/** NUL never reaches our types: PostgreSQL text and jsonb reject it, and hostile mail sends it. */
function withoutNul(value: string): string {
  return value.includes('\u0000') ? value.replaceAll('\u0000', '') : value;
}
