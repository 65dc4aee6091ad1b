/**
 * RFC 3464 delivery status notifications: the `message/delivery-status` body (per-message fields,
 * then one group of per-recipient fields each), and the returned message's identity from a
 * `text/rfc822-headers` or `message/rfc822` part.
 *
 * MIME structure comes from `bounce/mime.ts`, which splits the raw bytes itself: mailparser may
 * hand a delivery-status part over as text or as an attachment depending on the sender, and it
 * folds nested messages away. The field reader here also works on DSN fields that an MTA pasted
 * into a text part (Sendmail forwarded as a quote, qmail-ldap, some appliances), so it does not
 * insist on blank lines between groups: a new `Final-Recipient` starts a new recipient.
 */
import { headerValue, parseHeaderBlock, splitHeaderBody, type MimePart } from './bounce/mime.js';

export interface DeliveryStatusRecipient {
  /** Address of Final-Recipient (RFC 3464 §2.3.2), type prefix removed, as written. */
  finalRecipient: string | null;
  /** Address of Original-Recipient (§2.3.1). */
  originalRecipient: string | null;
  /** Lower-case Action (§2.3.3), or null when missing. */
  action: string | null;
  /** Status (§2.3.4) as written, e.g. `5.1.1`; '' when missing. */
  status: string;
  /** Remote-MTA (§2.3.5) name, type prefix removed. */
  remoteMta: string | null;
  /** Upper-case diagnostic type, e.g. `SMTP`, `X-POSTFIX`; '' when none. */
  diagnosticType: string;
  /** Diagnostic-Code (§2.3.6) text, folded lines joined with one space. */
  diagnosticCode: string;
  lastAttemptDate: string | null;
  willRetryUntil: string | null;
  /** Other per-recipient fields (lower-case names), e.g. x-actual-recipient. */
  extra: Map<string, string>;
}

export interface DeliveryStatus {
  reportingMta: string | null;
  receivedFromMta: string | null;
  arrivalDate: string | null;
  originalEnvelopeId: string | null;
  recipients: DeliveryStatusRecipient[];
}

export interface OriginalMessage {
  messageId: string | null;
  subject: string | null;
  from: string | null;
  to: string | null;
  /** All header fields of the returned message. */
  headers: Map<string, string[]>;
}

const PER_MESSAGE = new Set(['reporting-mta', 'received-from-mta', 'arrival-date', 'original-envelope-id', 'x-postfix-queue-id', 'dsn-gateway']);
const PER_RECIPIENT = new Set([
  'final-recipient',
  'original-recipient',
  'action',
  'status',
  'remote-mta',
  'diagnostic-code',
  'last-attempt-date',
  'will-retry-until',
  'final-log-id',
  'x-actual-recipient',
  'x-original-message-id',
  'x-supplementary-info',
  'x-display-name',
]);

function emptyRecipient(): DeliveryStatusRecipient {
  return {
    finalRecipient: null,
    originalRecipient: null,
    action: null,
    status: '',
    remoteMta: null,
    diagnosticType: '',
    diagnosticCode: '',
    lastAttemptDate: null,
    willRetryUntil: null,
    extra: new Map(),
  };
}

/** `rfc822; user@example.org` to `user@example.org`; angle brackets and quotes around it removed. */
export function stripAddressType(value: string): string {
  const semi = value.indexOf(';');
  let v = (semi !== -1 && semi < 20 ? value.slice(semi + 1) : value).trim();
  if (v.startsWith('<') && v.includes('>')) v = v.slice(1, v.indexOf('>'));
  return v.trim();
}

/** Splits `smtp; 550 ...` into type and text; a value without a short type prefix is all text. */
function splitTyped(value: string): { type: string; text: string } {
  const semi = value.indexOf(';');
  if (semi > 0 && semi <= 16 && /^[A-Za-z][A-Za-z0-9-]*$/.test(value.slice(0, semi).trim())) {
    return { type: value.slice(0, semi).trim().toUpperCase(), text: value.slice(semi + 1).trim() };
  }
  return { type: '', text: value.trim() };
}

/**
 * Reads the fields of a `message/delivery-status` body (RFC 3464 §2). Never throws; unknown
 * fields are kept in `extra`, a broken group does not stop the next one.
 */
export function parseDeliveryStatus(text: string): DeliveryStatus {
  const out: DeliveryStatus = { reportingMta: null, receivedFromMta: null, arrivalDate: null, originalEnvelopeId: null, recipients: [] };
  let current: DeliveryStatusRecipient | null = null;
  const fields = unfoldFields(text);
  // RFC 3464 §2.1: groups are separated by blank lines; a recipient field after one starts a new
  // recipient. Without blank lines, a repeated field does.
  let closed = false;
  for (const { name, value } of fields) {
    if (name === '') {
      if (current) closed = true;
      continue;
    }
    if (PER_MESSAGE.has(name) && current === null) {
      if (name === 'reporting-mta') out.reportingMta = stripAddressType(value) || null;
      else if (name === 'received-from-mta') out.receivedFromMta = stripAddressType(value) || null;
      else if (name === 'arrival-date') out.arrivalDate = value || null;
      else if (name === 'original-envelope-id') out.originalEnvelopeId = value || null;
      continue;
    }
    if (!PER_RECIPIENT.has(name)) {
      if (current) current.extra.set(name, value);
      continue;
    }
    const startsRecipient =
      current === null ||
      closed ||
      (name === 'final-recipient' && current.finalRecipient !== null) ||
      (name === 'original-recipient' && (current.originalRecipient !== null || current.status !== '')) ||
      (name === 'action' && current.action !== null) ||
      (name === 'status' && current.status !== '');
    closed = false;
    if (startsRecipient) {
      current = emptyRecipient();
      out.recipients.push(current);
    }
    const r = current!;
    switch (name) {
      case 'final-recipient':
        r.finalRecipient = stripAddressType(value) || null;
        break;
      case 'original-recipient':
        r.originalRecipient = stripAddressType(value) || null;
        break;
      case 'action':
        r.action = value.split(/[\s(]/)[0]!.toLowerCase() || null;
        break;
      case 'status': {
        const m = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(value);
        r.status = m ? m[1]! : '';
        break;
      }
      case 'remote-mta':
        r.remoteMta = stripAddressType(value).replace(/^\[|\]$/g, '') || null;
        break;
      case 'diagnostic-code': {
        const { type, text: diag } = splitTyped(value);
        r.diagnosticType = type;
        r.diagnosticCode = diag;
        break;
      }
      case 'last-attempt-date':
        r.lastAttemptDate = value || null;
        break;
      case 'will-retry-until':
        r.willRetryUntil = value || null;
        break;
      default:
        r.extra.set(name, value);
    }
  }
  // Groups that carry nothing about a recipient (a stray Status: line in a quote) are noise.
  out.recipients = out.recipients.filter((r) => r.finalRecipient || r.originalRecipient || r.status || r.action || r.diagnosticCode);
  return out;
}

/**
 * Unfolds `Name: value` lines (RFC 5322 §2.2.3). Continuation lines start with white space; some
 * MTAs wrap Diagnostic-Code without it, so a line that is not a field and follows a diagnostic
 * is taken as its continuation.
 */
function unfoldFields(text: string): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  let last: { name: string; value: string } | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') {
      if (last !== null || (out.length > 0 && out[out.length - 1]!.name !== '')) out.push({ name: '', value: '' });
      last = null;
      continue;
    }
    const c = line.charCodeAt(0);
    if ((c === 0x20 || c === 0x09) && last) {
      last.value += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 && colon < 40 ? line.slice(0, colon).trim().toLowerCase() : '';
    if (name && /^[a-z][a-z0-9-]*$/.test(name)) {
      last = { name, value: line.slice(colon + 1).trim() };
      out.push(last);
    } else if (last && last.name === 'diagnostic-code') {
      last.value += ' ' + line.trim();
    } else {
      last = null;
    }
  }
  return out;
}

/** Identity of a returned message from its header block (binary or decoded text). */
export function readOriginalHeaders(headerText: string, decodeWords: (v: string) => string): OriginalMessage {
  const headers = parseHeaderBlock(splitHeaderBody(headerText).head);
  return originalFromHeaders(headers, decodeWords);
}

export function originalFromHeaders(headers: Map<string, string[]>, decodeWords: (v: string) => string): OriginalMessage {
  const id = headerValue(headers, 'message-id');
  const m = /<([^<>\s]{1,998})>/.exec(id);
  const messageId = m ? m[1]! : id.trim().replace(/^<|>$/g, '') || null;
  const subject = headers.has('subject') ? decodeWords(headerValue(headers, 'subject')) : null;
  const from = headers.has('from') ? decodeWords(headerValue(headers, 'from')) : null;
  const to = headers.has('to') ? decodeWords(headerValue(headers, 'to')) : null;
  return { messageId: messageId && messageId.length <= 998 ? messageId : null, subject, from, to, headers };
}

/** The returned message's part of a report: message/rfc822 (its headers) or text/rfc822-headers. */
export function findOriginalPart(parts: readonly MimePart[]): { headers: Map<string, string[]>; part: MimePart } | null {
  for (const part of parts) {
    if ((part.type === 'message/rfc822' || part.type === 'message/global') && part.children[0]) {
      return { headers: part.children[0].headers, part };
    }
    if (part.type === 'text/rfc822-headers' || part.type === 'message/rfc822-headers' || part.type === 'message/global-headers') {
      return { headers: parseHeaderBlock(splitHeaderBody(part.body).head), part };
    }
  }
  return null;
}
