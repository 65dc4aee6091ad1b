import { createHash } from 'node:crypto';
import { simpleParser, type AddressObject, type EmailAddress } from 'mailparser';
import { normalizeMessageId, parseMessageIdList } from './threading.js';
import { extractVisibleReply, extractVisibleReplyFromHtml } from './visible-reply.js';

/** One mailbox of an address header. */
export interface ParsedAddress {
  address: string;
  name: string;
}

export interface ParsedAttachment {
  filename: string | null;
  contentType: string;
  size: number;
  sha256: string;
  contentId: string | null;
  disposition: string | null;
  content: Buffer;
}

/** What mailroom needs of a message; the only shape of a message outside this file. */
export interface ParsedMessage {
  subject: string;
  from: ParsedAddress | null;
  to: ParsedAddress[];
  cc: ParsedAddress[];
  replyTo: ParsedAddress[];
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

/** Parses raw RFC 5322 bytes. Never throws: a message it cannot read comes back as `ok: false`. */
export async function parseMessage(raw: Buffer): Promise<ParseResult> {
  try {
    const mail = await simpleParser(raw, { skipTextToHtml: true, skipImageLinks: true });
    const headers = collectHeaders(mail.headerLines);
    const text = withoutNul(mail.text ?? '');
    const html = typeof mail.html === 'string' ? withoutNul(mail.html) : null;
    const inReplyTo = parseMessageIdList(mail.inReplyTo ?? null);
    const message: ParsedMessage = {
      subject: withoutNul(mail.subject ?? ''),
      from: firstAddress(mail.from),
      to: flattenAddresses(mail.to),
      cc: flattenAddresses(mail.cc),
      replyTo: flattenAddresses(mail.replyTo),
      date: mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date : null,
      messageId: normalizeMessageId(mail.messageId),
      inReplyTo,
      references: parseMessageIdList(mail.references ?? null),
      text,
      html,
      visibleText: text.trim() ? extractVisibleReply(text) : html ? extractVisibleReplyFromHtml(html) : '',
      contentType: headers.get('content-type')?.[0] ?? null,
      headers,
      attachments: mail.attachments.map((attachment) => ({
        filename: attachment.filename ? withoutNul(attachment.filename) : null,
        contentType: attachment.contentType || 'application/octet-stream',
        size: attachment.content.length,
        sha256: createHash('sha256').update(attachment.content).digest('hex'),
        contentId: normalizeMessageId(attachment.contentId ?? attachment.cid ?? null),
        disposition: attachment.contentDisposition ?? null,
        content: attachment.content,
      })),
      bodyHash: hashBody(raw),
    };
    return { ok: true, message };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

function collectHeaders(lines: ReadonlyArray<{ key: string; line: string }>): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  for (const { key, line } of lines) {
    const colon = line.indexOf(':');
    const value = withoutNul((colon === -1 ? '' : line.slice(colon + 1)).replace(/\r?\n[ \t]+/g, ' ').trim());
    const name = key.toLowerCase();
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

function hashBody(raw: Buffer): string {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  const candidates = [crlf === -1 ? -1 : crlf + 4, lf === -1 ? -1 : lf + 2].filter((i) => i > 0);
  const start = candidates.length > 0 ? Math.min(...candidates) : raw.length;
  return createHash('sha256').update(raw.subarray(start)).digest('hex');
}

/** NUL never reaches our types: PostgreSQL text and jsonb reject it, and hostile mail sends it. */
function withoutNul(value: string): string {
  return value.includes('\u0000') ? value.replaceAll('\u0000', '') : value;
}
