/**
 * Bounces, delay notices, feedback-loop complaints and auto-replies: the one entry point the
 * daemon uses.
 *
 * How a report is recognised, in this order:
 *  1. A `message/feedback-report` part (RFC 5965, ARF): a complaint.
 *  2. A `message/delivery-status` part with recipients (RFC 3464): a DSN. The human-readable part
 *     still fills in what the DSN leaves out (many MTAs omit Diagnostic-Code or the reply code).
 *  3. DSN fields pasted into text (a forwarded or quoted DSN): read as a DSN.
 *  4. Headers that say "bounce" (null Return-Path, MAILER-DAEMON/postmaster From, X-Failed-
 *     Recipients, a bounce subject) or an MTA's own report sentence: the free-text heuristics.
 *  5. An RFC 3834 auto-reply (Auto-Submitted: auto-replied, X-Autoreply, an out-of-office
 *     subject) that is none of the above: an auto-reply with reason `vacation`.
 * Anything else, including a customer's mail that merely says "delivery failed", is null.
 */
import { decideBounceReason, isHardBounce, isPrivateStatus, privateStatus, type BounceReason, type ReasonLayer } from './bounce-reason.js';
import { parseBounceText, findOriginalStart, type BounceAction, type TextRecipient } from './bounce-heuristics.js';
import { cleanAddress, collapse, findCommand, findRemoteMta, firstAddress, joinMultilineReply, pickCodes } from './bounce/extract.js';
import { decodeCharset, decodeEncodedWords, headerValue, parseHeaderBlock, parseMime, partText, splitHeaderBody, type MimePart } from './bounce/mime.js';
import { parseSesNotification, type SesNotification } from './bounce/amazon-ses.js';
import { findOriginalPart, originalFromHeaders, parseDeliveryStatus, type DeliveryStatus, type OriginalMessage } from './delivery-status.js';

export type { BounceReason, ReasonLayer } from './bounce-reason.js';

export type BounceKind = 'bounce' | 'delay' | 'complaint' | 'auto_reply';

export interface BounceRecipient {
  /** Lower case; null when the report names none. */
  recipient: string | null;
  action: BounceAction | null;
  /** SMTP reply code, e.g. '550'; '' when none. */
  replyCode: string;
  /** RFC 3463 status, e.g. '5.1.1'; a private X.0.9NN code when the bounce states none; '' for complaints and auto-replies. */
  status: string;
  /** The remote server's words, whitespace collapsed, at most 1000 characters. */
  diagnostic: string;
  remoteMta: string | null;
  reason: BounceReason;
  /** Which layer decided `reason`: 'report' when the kind of report did (a complaint, an auto-reply). */
  decidedBy: ReasonLayer;
  hard: boolean;
  /**
   * The reporting MTA has stopped trying for this recipient: its report says failed, or is a
   * failure notice that says nothing. True also where `action` reads an expiry as `delayed`, as the
   * bounce vocabulary has it: the mail will not arrive. False for delay warnings, complaints and
   * auto-replies.
   */
  gaveUp: boolean;
}

export interface BounceReport {
  /** 'delay' when every recipient is delayed; ARF feedback reports are 'complaint'; RFC 3834 auto-replies are 'auto_reply'. */
  kind: BounceKind;
  /** In the order they appear. */
  recipients: BounceRecipient[];
  /** Without angle brackets. */
  originalMessageId: string | null;
  originalSubject: string | null;
  /** Which parser understood it, e.g. 'rfc3464', 'postfix', 'exchange' (for logs and the CLI). */
  source: string;
}

/** Bytes of a message looked at. A bounce is small; a hostile one is cut, never slow. */
const MAX_BYTES = 4 * 1024 * 1024;
/** Recipients reported per message; a real report lists a few, a hostile one may list thousands. */
const MAX_RECIPIENTS = 500;
/** Characters of report text handed to the heuristics. */
const MAX_TEXT = 256 * 1024;

/** Null when the message is not a bounce, complaint or auto-reply. Never throws. */
export async function parseBounce(raw: Buffer): Promise<BounceReport | null> {
  return parseBounceSync(raw);
}

/** The synchronous core of {@link parseBounce}. Never throws. */
function parseBounceSync(raw: Buffer): BounceReport | null {
  try {
    const report = readReport(raw.length > MAX_BYTES ? raw.subarray(0, MAX_BYTES) : raw);
    return report ? withoutNul(report) : null;
  } catch (err) {
    // Parsers never throw on hostile input (a hostile bounce must not stop processing). Everything above is written not to throw;
    // should a bug still do so on some input, "not understood" is the honest answer for that
    // message, and the daemon keeps the raw bytes to replay once the bug is fixed.
    void err;
    return null;
  }
}

/** NUL never leaves the parser: PostgreSQL text and jsonb reject it, and fuzzed reports carry it. */
function withoutNul(report: BounceReport): BounceReport {
  const clean = (value: string): string => (value.includes('\u0000') ? value.replaceAll('\u0000', '') : value);
  const cleanOrNull = (value: string | null): string | null => (value === null ? null : clean(value));
  return {
    ...report,
    originalMessageId: cleanOrNull(report.originalMessageId),
    originalSubject: cleanOrNull(report.originalSubject),
    recipients: report.recipients.map((r) => ({
      ...r,
      recipient: cleanOrNull(r.recipient),
      replyCode: clean(r.replyCode),
      status: clean(r.status),
      diagnostic: clean(r.diagnostic),
      remoteMta: cleanOrNull(r.remoteMta),
    })),
  };
}

const SUBJECT_MARKERS: readonly RegExp[] = [
  /undeliver(?:ed|able)/i,
  /delivery status notification/i,
  /mail delivery (?:failed|failure|system)/i,
  /delivery (?:failure|failed|notification|problem|report)/i,
  /failure notice/i,
  /returned mail/i,
  /returned to sender/i,
  /non[- ]?delivery/i,
  /could not be delivered/i,
  /delivery has failed/i,
  /not delivered/i,
  /nondeliverable/i,
  /mail system error/i,
  /warning: could not send message/i,
  /message delayed|delayed mail|delivery delayed/i,
  /rejected:/i,
  /bounced? mail|mail bounced/i,
  /unzustellbar|non remis|no entregado|non recapitabile/i,
  /エラー通知|配信エラー|不達|送信できませんでした|配送失敗/,
];

/**
 * Cheap check on headers alone: does this look like a bounce (multipart/report, null sender,
 * MAILER-DAEMON/postmaster From, X-Failed-Recipients, a typical bounce subject)?
 * @param headers lower-case header names to unfolded values
 * @param envelopeFrom envelope MAIL FROM, '' for the null sender `<>`
 */
export function looksLikeBounce(headers: ReadonlyMap<string, string[]>, envelopeFrom: string): boolean {
  if (envelopeFrom.trim() === '' || envelopeFrom.trim() === '<>') return true;
  const contentType = headerValue(headers, 'content-type').toLowerCase();
  if (contentType.startsWith('multipart/report')) return true;
  if (headers.has('x-failed-recipients')) return true;
  const from = headerValue(headers, 'from').toLowerCase();
  if (/\b(mailer[-_]?daemon|mail[-_]daemon|post[-_]?master)\b/.test(from)) return true;
  const subject = decodeEncodedWords(headerValue(headers, 'subject').slice(0, 500));
  return SUBJECT_MARKERS.some((re) => re.test(subject));
}

/** Sentences only an MTA's own report contains (lower case). */
const REPORT_SENTENCES: readonly string[] = [
  'this is the mail system at host',
  'this is the postfix program',
  'created automatically by mail delivery software',
  'this is the qmail-send program',
  'transcript of session follows',
  'had permanent fatal errors',
  'delivery to the following recipient',
  'did not reach the following recipient',
  'delivery has failed to these recipients',
  'could not be delivered to one or more',
  'unable to deliver your message to the following',
];

/** Bounces of bounces: how deep a returned message that is itself a report is followed. */
const MAX_NESTED_REPORTS = 2;

function readReport(raw: Buffer, depth = 0): BounceReport | null {
  // Line ends normalised before anything is matched: a CRLF copy gives the same rows as its LF original.
  const root = parseMime(toLf(raw.toString('latin1')));
  const headers = root.headers;
  const leaves = reportLeaves(root);
  const decode = (v: string): string => decodeEncodedWords(v);
  const subject = collapse(decode(headerValue(headers, 'subject')), 500);
  const fromAddress = firstAddress(decode(headerValue(headers, 'from'))) ?? '';

  // The returned message: a message/rfc822 or text/rfc822-headers part, else inline after a marker.
  const originalPart = findOriginalPart(leaves.all);
  let original: OriginalMessage | null = originalPart ? originalFromHeaders(originalPart.headers, decode) : null;
  const text = humanText(leaves.text, root);
  if (!original || (!original.messageId && !original.subject)) {
    const inline = inlineOriginal(text);
    if (inline && (inline.messageId || inline.subject)) original = inline;
  }
  if (!original?.messageId) {
    // The copy of the message follows without any marker (Zoho, forwarded bounces): its
    // Message-ID line is the last one in the report's text.
    const id = lastMessageIdLine(text);
    if (id) original = { ...(original ?? { subject: null, from: null, to: null, headers: new Map<string, string[]>() }), messageId: id };
  }

  const feedback = leaves.all.find((p) => p.type === 'message/feedback-report');
  if (feedback) return feedbackReport(feedback, text, original);
  if (originalPart && isComplaintWithoutArf(subject, text)) return feedbackReport(null, text, original);

  if (text.includes('notificationType')) {
    const ses = parseSesNotification(text.slice(0, MAX_TEXT));
    if (ses && ses.recipients.length > 0) return sesReport(ses, original);
  }

  let dsn: DeliveryStatus | null = null;
  let source = 'rfc3464';
  for (const part of leaves.all) {
    if (part.type === 'message/delivery-status' || part.type === 'message/global-delivery-status') {
      const parsed = parseDeliveryStatus(decodeCharset(part.body, 'utf-8'));
      if (parsed.recipients.length > 0) {
        if (dsn) dsn.recipients.push(...parsed.recipients);
        else dsn = parsed;
      }
    }
  }
  const excluded = excludedAddresses(headers, original, fromAddress);
  const returnPath = headerValue(headers, 'return-path');
  const envelope = returnPath.replace(/[<>\s]/g, '') === '' && headers.has('return-path') ? '' : returnPath || 'unknown@invalid';
  const bounceHeaders = looksLikeBounce(headers, envelope);
  const lowerText = text.slice(0, 20_000).toLowerCase();
  const reportSentence = REPORT_SENTENCES.some((s) => lowerText.includes(s));

  if (!dsn && (bounceHeaders || reportSentence)) {
    const embedded = embeddedDsn(text);
    if (embedded) {
      dsn = embedded;
      source = 'rfc3464-text';
    }
  }

  const heuristic =
    dsn || bounceHeaders || reportSentence
      ? parseBounceText({ text: text.slice(0, MAX_TEXT), subject, from: fromAddress, headers, excluded, originalTo: original?.to ?? null })
      : null;

  // A report that says nothing itself but returns another report (a bounce of a bounce, or a
  // relay wrapping the first MTA's report): read the inner one.
  if (!dsn && depth < MAX_NESTED_REPORTS && originalPart?.part.children[0] && (heuristic?.recipients.every((r) => !r.status && !r.replyCode) ?? true)) {
    const inner = originalPart.part.children[0];
    if (looksLikeBounce(inner.headers, 'unknown@invalid')) {
      const nested = readReport(Buffer.from(originalPart.part.body, 'latin1'), depth + 1);
      if (nested && nested.recipients.length > 0) return nested;
    }
  }

  let rows: TextRecipient[] | null = null;
  if (dsn) {
    rows = mergeDsn(dsn, heuristic?.recipients ?? []);
    if (heuristic && source === 'rfc3464' && heuristic.source !== 'text') source = `rfc3464/${heuristic.source}`;
  } else if (heuristic && heuristic.recipients.length > 0) {
    rows = heuristic.recipients.slice(0, MAX_RECIPIENTS);
    source = heuristic.source;
  }

  // A null-sender message from a person's address that reports nothing (no DSN, no report
  // sentence, no bounce subject, no code) may be an auto-reply: vacation programs send them so.
  const fromPersonReportingNothing =
    envelope === '' && !dsn && !reportSentence && !isMachineOrNoReplySender(fromAddress) && !SUBJECT_MARKERS.some((re) => re.test(subject)) && (rows ?? []).every((r) => !r.status && !r.replyCode);

  if (!rows || rows.length === 0) {
    // Apple Mail's "Unsubscribe" button mails the list a request marked X-Apple-Unsubscribe.
    if (headerValue(headers, 'x-apple-unsubscribe').toLowerCase() === 'true' && fromAddress) {
      return {
        kind: 'complaint',
        recipients: [{ recipient: fromAddress, action: null, replyCode: '', status: '', diagnostic: collapse(text, 1000), remoteMta: null, reason: 'feedback', decidedBy: 'report', hard: false, gaveUp: false }],
        originalMessageId: original?.messageId ?? null,
        originalSubject: original?.subject ?? null,
        source: 'apple-unsubscribe',
      };
    }
    return autoReply(headers, subject, fromAddress, text, original, fromPersonReportingNothing);
  }
  if (fromPersonReportingNothing) {
    const auto = autoReply(headers, subject, fromAddress, text, original, true);
    if (auto) return auto;
  }
  if (!dsn && !bounceHeaders && !reportSentence) return null;
  const recipients = rows.map(finishRecipient);
  const everyDelayed = rows.every((r) => r.action === 'delayed');
  return {
    kind: everyDelayed ? 'delay' : 'bounce',
    recipients,
    originalMessageId: original?.messageId ?? null,
    originalSubject: original?.subject ?? null,
    source,
  };
}

function toLf(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n/g, '\n') : text;
}

interface Leaves {
  /** Every part outside a returned message, containers included, in document order. */
  all: MimePart[];
  /** Human-readable text leaves outside a returned message. */
  text: MimePart[];
}

/** Parts that belong to the report itself: a message/rfc822 part's insides are the original. */
function reportLeaves(root: MimePart): Leaves {
  const all: MimePart[] = [];
  const text: MimePart[] = [];
  const visit = (part: MimePart, depth: number): void => {
    all.push(part);
    if (part.type === 'message/rfc822' || part.type === 'message/global') return;
    if (part.children.length > 0) {
      for (const child of part.children) visit(child, depth + 1);
      return;
    }
    const disposition = headerValue(part.headers, 'content-disposition').toLowerCase();
    if ((part.type === 'text/plain' || part.type === 'text/html') && !disposition.startsWith('attachment')) text.push(part);
  };
  visit(root, 0);
  return { all, text };
}

/** The report's words: text/plain parts, else text/html without tags. LF line ends. */
function humanText(parts: readonly MimePart[], root: MimePart): string {
  const plain = parts.filter((p) => p.type === 'text/plain');
  // multipart/alternative gives the same words twice; plain is enough when there is one.
  const chosen = plain.length > 0 ? plain : parts;
  const pieces: string[] = [];
  let total = 0;
  for (const part of chosen) {
    let t = partText(part);
    if (t.length > MAX_TEXT) t = t.slice(0, MAX_TEXT);
    if (part.type === 'text/html') t = htmlToText(t);
    pieces.push(t);
    total += t.length;
    if (total > MAX_TEXT) break;
  }
  if (pieces.length === 0 && root.children.length === 0) pieces.push(partText(root));
  const text = pieces.join('\n\n');
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[^>]{0,200}>[^<]{0,100000}<\/\1>/gi, ' ')
    .replace(/<br\s{0,5}\/?>|<\/p>|<\/div>|<\/tr>|<\/li>|<\/h\d>/gi, '\n')
    .replace(/<[^<>]{0,2000}>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** The returned message's headers pasted after a marker line in the report text. */
function inlineOriginal(text: string): OriginalMessage | null {
  const start = findOriginalStart(text);
  if (start < 0) return null;
  let rest = text.slice(start, start + 64 * 1024);
  const nl = rest.indexOf('\n');
  rest = nl === -1 ? '' : rest.slice(nl + 1);
  rest = rest.replace(/^(?:[ \t]*\n)+/, '');
  // Some MTAs indent or quote the copy; headers must start at the line start.
  const lines = rest.split('\n', 400);
  if (lines.filter((l) => /^[ \t]{1,8}[A-Za-z-]{2,40}:/.test(l)).length > lines.length / 2) {
    rest = lines.map((l) => l.replace(/^[ \t]{1,8}/, '')).join('\n');
  }
  const headers = parseHeaderBlock(splitHeaderBody(rest).head);
  if (headers.size === 0) return null;
  return originalFromHeaders(headers, (v) => decodeEncodedWords(Buffer.from(v, 'utf8').toString('latin1')));
}

/** The id of the last `Message-ID: <...>` line in the text (quoted with `>` or not), or null. */
function lastMessageIdLine(text: string): string | null {
  let found: string | null = null;
  for (const m of text.slice(0, MAX_TEXT).matchAll(/^[> \t]{0,4}message-id\s{0,4}:\s{0,4}<([^<>\s]{1,998})>/gim)) found = m[1]!;
  return found;
}

/** DSN fields written into the text (a forwarded DSN, some appliances): read as a DSN. */
function embeddedDsn(text: string): DeliveryStatus | null {
  const lower = text.slice(0, MAX_TEXT);
  const at = lower.search(/^[> ]{0,3}(?:final-recipient|original-recipient)\s{0,4}:/im);
  if (at < 0) return null;
  let block = lower.slice(Math.max(0, lower.lastIndexOf('\n', Math.max(0, at - 2000)))).split('\n', 300);
  block = block.map((l) => l.replace(/^> ?/, ''));
  const parsed = parseDeliveryStatus(block.join('\n'));
  return parsed.recipients.some((r) => r.finalRecipient || r.originalRecipient) ? parsed : null;
}

function excludedAddresses(headers: ReadonlyMap<string, string[]>, original: OriginalMessage | null, fromAddress: string): Set<string> {
  const out = new Set<string>();
  const add = (v: string | null | undefined): void => {
    const a = v ? firstAddress(v) : null;
    if (a) out.add(a);
  };
  add(headerValue(headers, 'to'));
  add(original?.from);
  // The bounce's own sender (From, Return-Path) is never the address that failed.
  add(fromAddress);
  add(headerValue(headers, 'return-path'));
  add(headerValue(headers, 'sender'));
  return out;
}

/** An MTA's own class of the failure in a DSN extension field, as `mta:class` (lower case), or undefined. */
function mtaCategoryOf(extra: ReadonlyMap<string, string>): string | undefined {
  const powermta = extra.get('x-powermta-bouncecategory')?.trim().toLowerCase();
  return powermta ? `powermta:${powermta.slice(0, 40)}` : undefined;
}

/** DSN recipients, completed from the text: diagnostic, reply code, command, remote MTA. */
function mergeDsn(dsn: DeliveryStatus, textRows: readonly TextRecipient[]): TextRecipient[] {
  const rows: TextRecipient[] = [];
  const byAddress = new Map<string, TextRecipient>();
  for (const t of textRows) if (t.recipient) byAddress.set(t.recipient, t);
  for (const r of dsn.recipients.slice(0, MAX_RECIPIENTS)) {
    const finalAddress = r.finalRecipient ? cleanAddress(r.finalRecipient) : null;
    const originalAddress = r.originalRecipient ? cleanAddress(r.originalRecipient) : null;
    const address = finalAddress ?? originalAddress;
    const fromText = (address && byAddress.get(address)) || (originalAddress && byAddress.get(originalAddress)) || (textRows.length === 1 && dsn.recipients.length === 1 ? textRows[0] : undefined);
    let diagnostic = r.diagnosticCode;
    const codes = pickCodes(diagnostic);
    let status = r.status;
    // A DSN's X.0.0 says only the class; the server's own words may be precise.
    // The server's own words win over a DSN's summary code of the same class (a relay reporting
    // 4.4.7 "expired" over the 4.4.2 it got, or X.0.0 over the precise code).
    if (codes.status && (!status || codes.status[0] === status[0])) status = codes.status;
    let replyCode = codes.replyCode;
    let command = findCommand(diagnostic);
    let remoteMta = r.remoteMta ? r.remoteMta.toLowerCase() : null;
    // Sendmail cuts a multi-line reply ("552-5.7.0 ...") to its first line in the DSN; the
    // transcript has all of it.
    if (/^[245]\d\d-/.test(diagnostic) && fromText?.transcriptReply && fromText.transcriptReply.length > diagnostic.length) {
      diagnostic = fromText.transcriptReply;
    }
    if (fromText) {
      if (!diagnostic) diagnostic = fromText.diagnostic;
      if (!replyCode) replyCode = fromText.replyCode;
      if (!status) status = fromText.status;
      command ||= fromText.command;
      remoteMta ??= fromText.remoteMta;
    }
    remoteMta ??= findRemoteMta(diagnostic);
    if (/^\d\.0\.0$/.test(status) && fromText) {
      const refined = pickCodes(diagnostic).status;
      if (refined && refined[0] === status[0] && !refined.endsWith('.0.0')) status = refined;
    }
    if (!replyCode && diagnostic) replyCode = pickCodes(diagnostic).replyCode;
    rows.push({
      recipient: address,
      action: normalizeAction(r.action),
      replyCode,
      status,
      diagnostic: collapse(diagnostic, 4000),
      remoteMta,
      command,
      preset: fromText?.preset ?? null,
      diagnosticType: r.diagnosticType,
      mtaCategory: mtaCategoryOf(r.extra),
    });
  }
  return rows;
}

function normalizeAction(action: string | null): BounceAction | null {
  switch (action) {
    case 'failed':
    case 'failure':
      return 'failed';
    case 'delayed':
      return 'delayed';
    case 'delivered':
      return 'delivered';
    case 'relayed':
      return 'relayed';
    case 'expanded':
      return 'expanded';
    default:
      return null;
  }
}

function finishRecipient(input: TextRecipient): BounceRecipient {
  const row = { ...input, diagnostic: joinMultilineReply(input.diagnostic) };
  const status = row.status && !isPrivateStatus(row.status) ? row.status : '';
  const { reason, decidedBy } = decideBounceReason({
    status,
    replyCode: row.replyCode,
    diagnostic: row.diagnostic,
    diagnosticType: row.diagnosticType ?? '',
    command: row.command,
    action: row.action,
    preset: row.preset,
    mtaCategory: row.mtaCategory,
  });
  const temporary = row.replyCode.startsWith('4') || (!row.replyCode && /temporary failure|retry timeout exceeded|temporarily/i.test(row.diagnostic));
  const finalStatus = status || privateStatus(reason, temporary);
  let action = row.action;
  const gaveUp = action === 'failed' || action === null;
  // The bounce vocabulary calls an expired delivery delayed; `gaveUp` keeps that it has failed.
  if (reason === 'expired' && gaveUp) action = 'delayed';
  if (reason === 'delivered') action = 'delivered';
  return {
    recipient: row.recipient,
    action: action ?? 'failed',
    replyCode: row.replyCode,
    status: finalStatus,
    diagnostic: collapse(row.diagnostic, 1000),
    remoteMta: row.remoteMta,
    reason,
    decidedBy,
    hard: isHardBounce(reason, finalStatus, row.replyCode),
    gaveUp: gaveUp && reason !== 'delivered',
  };
}

/**
 * MAILER-DAEMON, postmaster, root, no-reply: a report's sender, never a person who replied. Wider
 * than isSystemSender in addresses.ts, which spares no-reply@ because web forms send from it.
 */
function isMachineOrNoReplySender(address: string): boolean {
  return address === '' || /^(?:mailer[-_]?daemon|mail[-_]daemon|post[-_]?master|root|noreply|no-reply)@/.test(address);
}

/** Abuse reports some providers send without an ARF part: the reported message attached, a complaint subject. */
function isComplaintWithoutArf(subject: string, text: string): boolean {
  if (/complaint about message|abuse report|spam report|feedback loop/i.test(subject)) return true;
  return /email abuse report|abuse complaint/i.test(text.slice(0, 5000));
}

/** ARF (RFC 5965): one row per Original-Rcpt-To, else the reported message's To, else one without a recipient. */
function feedbackReport(part: MimePart | null, text: string, original: OriginalMessage | null): BounceReport {
  const fields = part ? parseHeaderBlock(decodeCharset(part.body, 'utf-8').replace(/^\s+/, '')) : new Map<string, string[]>();
  const recipients: string[] = [];
  // Original-Rcpt-To (RFC 5965 §3.2); Removal-Recipient is the field early ARF drafts used instead.
  for (const value of [...(fields.get('original-rcpt-to') ?? []), ...(fields.get('removal-recipient') ?? [])]) {
    const a = cleanAddress(value);
    if (a && !recipients.includes(a)) recipients.push(a);
  }
  if (recipients.length === 0) {
    // Microsoft's JMRP reports name the complaining address in the enclosed message's X-HmXmrOriginalRecipient.
    const jmrp = original ? headerValue(original.headers, 'x-hmxmroriginalrecipient') : '';
    const to = (jmrp && firstAddress(jmrp)) || (original?.to ? firstAddress(original.to) : null);
    if (to) recipients.push(to);
  }
  const diagnostic = collapse(text, 1000);
  const remote = fields.get('source-ip')?.[0]?.trim() ?? null;
  const rows = (recipients.length > 0 ? recipients : [null]).map(
    (recipient): BounceRecipient => ({
      recipient,
      action: null,
      replyCode: '',
      status: '',
      diagnostic,
      remoteMta: remote,
      reason: 'feedback',
      decidedBy: 'report',
      hard: false,
      gaveUp: false,
    }),
  );
  return { kind: 'complaint', recipients: rows, originalMessageId: original?.messageId ?? null, originalSubject: original?.subject ?? null, source: 'arf' };
}

/** An Amazon SES notification: bounce, complaint or delivery. */
function sesReport(ses: SesNotification, original: OriginalMessage | null): BounceReport {
  if (ses.type === 'complaint') {
    return {
      kind: 'complaint',
      recipients: ses.recipients.map((r) => ({ recipient: r.recipient, action: null, replyCode: '', status: '', diagnostic: collapse(r.diagnostic, 1000), remoteMta: null, reason: 'feedback', decidedBy: 'report', hard: false, gaveUp: false })),
      originalMessageId: ses.messageId ?? original?.messageId ?? null,
      originalSubject: ses.subject ?? original?.subject ?? null,
      source: 'amazonses',
    };
  }
  const rows: TextRecipient[] = ses.recipients.map((r) => {
    const codes = pickCodes(r.diagnostic);
    return {
      recipient: cleanAddress(r.recipient),
      action: normalizeAction(r.action),
      replyCode: codes.replyCode,
      status: r.status || codes.status,
      diagnostic: r.diagnostic,
      remoteMta: r.remoteMta,
      command: findCommand(r.diagnostic),
      preset: null,
    };
  });
  return {
    kind: rows.every((r) => r.action === 'delayed') ? 'delay' : 'bounce',
    recipients: rows.map(finishRecipient),
    originalMessageId: ses.messageId ?? original?.messageId ?? null,
    originalSubject: ses.subject ?? original?.subject ?? null,
    source: 'amazonses',
  };
}

/**
 * Subjects out-of-office tools write: a fixed prefix and a colon ("Automatic reply: ..."), or the
 * prefix in brackets ("[Auto-Reply] ..."). Outlook's prefix in its other languages, and Lotus
 * Notes' "<name> is out of the office".
 */
const AUTO_SUBJECT =
  /^\[?(?:auto(?:matic)?[ -]?(?:reply|response|answer)|auto|out of (?:the )?office(?: auto-?reply)?|autoreply|abwesenheitsnotiz|automatische antwort|automatisch antwoord|risposta automatica|resposta autom\u00e1tica|autosvar|automaattinen vastaus|automatikus v\u00e1lasz|r\u00e9ponse automatique|respuesta autom\u00e1tica|automatyczna odpowied[z\u017a]|odpowied\u017a automatyczna|\u81ea\u52d5\u5fdc\u7b54|\u81ea\u52d5\u8fd4\u4fe1)(?:\s{0,3}:|\])|\bis out of (?:the )?office\b/i;

/** RFC 3834 auto-replies (and the headers and subjects out-of-office tools use instead). */
function autoReply(headers: ReadonlyMap<string, string[]>, subject: string, fromAddress: string, text: string, original: OriginalMessage | null, fromPersonReportingNothing = false): BounceReport | null {
  const autoSubmitted = headerValue(headers, 'auto-submitted').toLowerCase();
  // RFC 3834 §3.1.8 mentions the older Precedence: bulk/junk that vacation programs still set; it
  // counts only for a message that reports no failure.
  const precedence = headerValue(headers, 'precedence').trim().toLowerCase();
  const isAuto =
    autoSubmitted.startsWith('auto-replied') ||
    (fromPersonReportingNothing && (precedence === 'bulk' || precedence === 'junk' || precedence === 'auto_reply')) ||
    headers.has('x-autoreply') ||
    headers.has('x-autorespond') ||
    headerValue(headers, 'x-apple-action').toLowerCase() === 'vacation' ||
    AUTO_SUBJECT.test(subject);
  if (!isAuto || !fromAddress) return null;
  const cut = findOriginalStart(text);
  const body = collapse(cut > 0 ? text.slice(0, cut) : text, 1000);
  return {
    kind: 'auto_reply',
    recipients: [{ recipient: fromAddress, action: null, replyCode: '', status: '', diagnostic: body, remoteMta: null, reason: 'vacation', decidedBy: 'report', hard: false, gaveUp: false }],
    originalMessageId: original?.messageId ?? null,
    originalSubject: original?.subject ?? null,
    source: 'rfc3834',
  };
}
