/**
 * Bounces without a usable RFC 3464 part: the free-text reports MTAs write (Postfix, Sendmail,
 * Exim, qmail, Exchange, Office 365, Gmail, Yahoo, Amazon SES, Courier, Domino, ...).
 *
 * One generic reader does most of the work, because nearly every MTA writes the same shape: an
 * explanation, then per recipient a line that starts with the address, then the remote server's
 * words, then a copy of the message after a marker line. It finds:
 *  - the report text: everything before the returned message's marker;
 *  - recipient lines: an address alone on a line, `<address>:` (qmail, Postfix, Yahoo), an
 *    address followed by `on <date>` (Exchange 2003) or a label such as `Recipient:`;
 *  - each recipient's block: the lines after it up to the next recipient or the end of the
 *    paragraph, from which codes, remote MTA and command are read.
 * MTA families (`bounce/families.ts`) add what the shape cannot tell: their name, their fixed
 * sentences that mean a reason, and where the diagnostic is when it is not next to the address.
 */
import { classifyFamily, familyPreset, type Family } from './bounce/families.js';
import { cleanAddress, collapse, findCommand, findRemoteMta, firstAddress, isAddress, pickCodes } from './bounce/extract.js';
import type { BounceReason } from './bounce-reason.js';

/** RFC 3464 §2.3.3 Action values. */
export type BounceAction = 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded';

export interface TextRecipient {
  recipient: string | null;
  action: BounceAction | null;
  replyCode: string;
  status: string;
  diagnostic: string;
  remoteMta: string | null;
  command: string;
  /** A reason the family's own sentences settle. */
  preset: BounceReason | null;
  /** Upper-case DSN diagnostic type (`SMTP`, `X-POSTFIX`), when a DSN said so. */
  diagnosticType?: string;
  /** The sending MTA's own class of the failure, when its DSN carries one (`powermta:bad-mailbox`). */
  mtaCategory?: string;
  /** The server's replies from a Sendmail transcript, when the report has one. */
  transcriptReply?: string;
}

export interface HeuristicInput {
  /** Decoded report text (all human-readable parts outside the returned message), LF line ends. */
  text: string;
  subject: string;
  /** From header of the bounce, lower case. */
  from: string;
  headers: ReadonlyMap<string, string[]>;
  /** Addresses never taken as failed recipients: the bounce's own To, the original sender. */
  excluded: ReadonlySet<string>;
  /** To of the returned message, when known: the last resort for who failed. */
  originalTo: string | null;
}

export interface HeuristicResult {
  source: Family;
  recipients: TextRecipient[];
}

/** Lines of report text looked at; a report is never this long, hostile input may be. */
const MAX_LINES = 4000;
/** Characters of one recipient's block. */
const MAX_BLOCK_CHARS = 8000;
/** Lines one recipient's block may span. */
const MAX_BLOCK_LINES = 40;

/**
 * Phrases that start the line announcing the copy of the returned message (lower case, after
 * leading dashes, stars and the like). Everything from that line on is the original message.
 */
const ORIGINAL_MARKERS: readonly string[] = [
  'this is a copy of the message',
  'below this line is a copy of the message',
  'original message',
  'returned message',
  'unsent message',
  'undelivered message',
  'message headers follow',
  'message header follows',
  'headers of the original message',
  'header of the original message',
  'the header of the original message',
  'the original message headers',
  'copy of the original message',
  'message text follows',
  'your message reads',
  'below is a copy of',
  'the message header',
  'the original message',
  'rejected message',
  'original mail',
  'content-type: message/rfc822',
];

/** Words after a marker phrase that show the line is a sentence, not a marker ("The original message was received at"). */
const SENTENCE_AFTER_MARKER = /(?:was|were|could|has|had|is|did|to|for|you|from)/;

/** Index in `text` where the returned message starts, or -1. */
export function findOriginalStart(text: string): number {
  const limit = Math.min(text.length, 200_000);
  let lineStart = 0;
  while (lineStart < limit) {
    let end = text.indexOf('\n', lineStart);
    if (end === -1) end = text.length;
    if (end - lineStart < 120) {
      const line = text.slice(lineStart, end).toLowerCase().replace(/^[\s\-=*_#>|]+/, '');
      for (const marker of ORIGINAL_MARKERS) {
        if (!line.startsWith(marker)) continue;
        const rest = line.slice(marker.length);
        if (rest.length <= 60 && !SENTENCE_AFTER_MARKER.test(rest)) return lineStart;
      }
    }
    lineStart = end + 1;
  }
  return -1;
}

/** A line whose leading `>` quoting (a forwarded bounce) is removed. */
function dequote(lines: string[]): string[] {
  let quoted = 0;
  let nonEmpty = 0;
  for (const line of lines) {
    if (line.trim() === '') continue;
    nonEmpty++;
    if (line.startsWith('>')) quoted++;
  }
  if (nonEmpty === 0 || quoted / nonEmpty < 0.5) return lines;
  // Remove one level of "> " but keep Sendmail's own ">>> COMMAND" transcript lines.
  return lines.map((line) => (line.startsWith('>>>') && !line.startsWith('>>>>') ? line : line.replace(/^> ?/, '')));
}

interface RecipientLine {
  index: number;
  address: string;
  rest: string;
}

const ADDR = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\\-\"]{1,128}@[A-Za-z0-9][A-Za-z0-9.\\-]{0,252}[A-Za-z0-9]";
const LINE_PATTERNS: ReadonlyArray<{ re: RegExp; addr: number; rest: number; labelled?: boolean }> = [
  // <user@example.org>: host ... said: ... (Postfix, qmail, Yahoo), <user@example.org> (Sendmail), "user@example.org": (GMX)
  { re: new RegExp(`^\\s{0,12}[<"](${ADDR})[>"]\\s{0,4}(?:\\(expanded from[^)]{0,300}\\))?\\s{0,4}:?\\s{0,4}(.*)$`), addr: 1, rest: 2 },
  // user@example.org alone on a line (Exim, Gmail, Office 365), maybe with a mailto: copy
  { re: new RegExp(`^\\s{0,12}(${ADDR})\\s{0,4}(?:<mailto:[^>]{1,330}>)?\\s{0,4}[:,;]?\\s{0,4}$`), addr: 1, rest: -1 },
  // user@example.org on Thu, 29 Apr 2010 ... (Exchange 2003)
  { re: new RegExp(`^\\s{0,12}(${ADDR})\\s{1,4}on\\s{1,4}(.*)$`), addr: 1, rest: -1 },
  // user@example.org: reason / user@example.org... reason
  { re: new RegExp(`^\\s{0,12}(${ADDR})\\s{0,4}(?::|\\.\\.\\.|\\s-)\\s{1,4}(.+)$`), addr: 1, rest: 2 },
  // Sendmail transcripts without a DSN: 554 <user@example.org>... 550 Host unknown
  { re: new RegExp(`^\\s{0,4}([45]\\d\\d(?:[ -][45]\\.\\d{1,3}\\.\\d{1,3})?\\s{1,4}<(${ADDR})>\\.\\.\\..*)$`), addr: 2, rest: 1 },
  // user@example.org Invalid Address, ERROR_CODE :550 ... (Zoho and other one-line reports)
  { re: new RegExp(`^\\s{0,12}(${ADDR})\\s{1,4}([A-Za-z(\\[#].{4,})$`), addr: 1, rest: 2 },
  // Recipient: <user@example.org>, Failed recipient: ..., RCPT TO: ..., Could not be delivered to: ...
  {
    re: new RegExp(
      `^\\s{0,12}(?:failed |invalid |unknown |original |intended |bad )?(?:recipient(?:\\(s\\))?s?|rcpt(?: to)?|address(?:es)?|e-?mail(?: address)?|to|destinataire|empf\u00e4nger|mailbox|could not be delivered to|undeliverable to|delivery to)\\s{0,4}:\\s{0,12}<?(${ADDR})>?[\\s,;.]{0,4}(.*)$`,
      'i',
    ),
    addr: 1,
    rest: 2,
    labelled: true,
  },
];

/** Sentences naming the failed recipient, for reports without a recipient line (lower priority). */
const SENTENCE_PATTERN = new RegExp(
  `(?:deliver(?:ing|ed|y)?|send(?:ing)?|sent|message|mail|relay(?:ing)?)\\b[^<\\n@]{0,60}?\\b(?:to|for|recipient)\\b:?\\s{0,3}[<"(]?(${ADDR})`,
  'i',
);

function matchRecipientLine(line: string, excluded: ReadonlySet<string>): { address: string; rest: string; labelled: boolean } | null {
  if (line.length > 1000 || !line.includes('@')) return null;
  for (const p of LINE_PATTERNS) {
    const m = p.re.exec(line);
    if (!m) continue;
    const address = cleanAddress(m[p.addr]!);
    if (!address || excluded.has(address) || isSystemAddress(address)) return null;
    return { address, rest: p.rest >= 0 ? (m[p.rest] ?? '') : '', labelled: p.labelled === true };
  }
  return null;
}

function isSystemAddress(address: string): boolean {
  const local = address.slice(0, address.lastIndexOf('@'));
  return /^(mailer-daemon|mailerdaemon|postmaster|abuse|support|help|helpdesk|noreply|no-reply|root)$/.test(local);
}

/** Lines that end a recipient's block whatever follows. */
function isSectionEnd(line: string): boolean {
  const t = line.trim().toLowerCase();
  if (t.startsWith('-----') || t.startsWith('=====') || t.startsWith('______')) return true;
  if (/^(reporting-mta|final-recipient|original-recipient|arrival-date|received-from-mta)\s*:/.test(t)) return true;
  return false;
}

/**
 * Reads a free-text bounce. Returns null when no recipient and no diagnostic can be found: the
 * caller then decides whether the message is a bounce at all.
 */
export function parseBounceText(input: HeuristicInput): HeuristicResult | null {
  const family = classifyFamily(input);
  let text = input.text;
  const cut = findOriginalStart(text);
  if (cut > 0) text = text.slice(0, cut);
  const lines = dequote(text.split('\n', MAX_LINES).map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)));

  const found: RecipientLine[] = [];
  const all: RecipientLine[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const hit = matchRecipientLine(lines[i]!, input.excluded);
    if (!hit) continue;
    if (hit.labelled && /^\s*to\s*:/i.test(lines[i]!) && /^\s*subject\s*:/i.test(lines[i + 1] ?? '')) continue;
    const line = { index: i, address: hit.address, rest: hit.rest };
    // The same address again right inside its own block (Postfix repeats it in the reply) is not a new entry.
    const previous = all[all.length - 1];
    if (previous && previous.address === hit.address && i - previous.index <= 3) continue;
    all.push(line);
    if (!seen.has(hit.address)) {
      seen.add(hit.address);
      found.push(line);
    }
  }

  const recipients: TextRecipient[] = [];
  const transcript = sendmailTranscript(lines);
  // An address may be listed twice (Office 365: once for people, once "for administrators");
  // every block of it counts, in order.
  const blocksOf = new Map<string, string[]>();
  for (let k = 0; k < all.length; k++) {
    const entry = all[k]!;
    const stop = all[k + 1]?.index ?? lines.length;
    const floor = k === 0 ? 0 : all[k - 1]!.index + 1;
    let block = introFor(lines, entry.index, floor) + collectBlock(lines, entry.index, stop, entry.rest);
    if (block.trim() === '') block = reasonAbove(lines, entry.index, floor);
    const list = blocksOf.get(entry.address);
    if (list) list.push(block);
    else blocksOf.set(entry.address, [block]);
  }
  for (const r of found) recipients.push(buildRecipient(r.address, (blocksOf.get(r.address) ?? []).join('\n'), transcript));

  if (recipients.length === 0) {
    // No recipient line: the report names them elsewhere (X-Failed-Recipients), or only the
    // returned message does. The whole explanation is the diagnostic.
    const fallback = fallbackRecipients(input, lines);
    const paragraph = explanation(lines);
    if (fallback.length === 0 && paragraph === '') return null;
    for (const address of fallback.length > 0 ? fallback : [null]) {
      recipients.push(buildRecipient(address, paragraph, transcript));
    }
  }
  for (const r of recipients) r.preset = familyPreset(family, r, input);
  return { source: family, recipients };
}

/** The recipient's own words: the rest of its line, then following lines up to the paragraph end. */
function collectBlock(lines: readonly string[], start: number, stop: number, rest: string): string {
  const out: string[] = rest.trim() ? [rest.trim()] : [];
  let blankRun = 0;
  const limit = Math.min(stop, start + 1 + MAX_BLOCK_LINES);
  for (let i = start + 1; i < limit; i++) {
    const line = lines[i]!;
    // A section line ends the block, unless nothing was said yet ("-----server message" headings).
    if (isSectionEnd(line)) {
      if (out.length > 0 || /^\s*-{3,}\s*(?:transcript|original|returned|unsent)/i.test(line)) break;
      continue;
    }
    if (line.trim() === '') {
      blankRun++;
      // A paragraph ends the block once it has words; an address alone on its line (Gmail,
      // Office 365) is followed by a blank line before the details.
      if (out.length > 0) {
        if (blankRun >= 1 && !looksLikeContinuation(lines, i + 1, limit, out)) break;
      }
      continue;
    }
    blankRun = 0;
    out.push(line.trim());
  }
  const block = out.join('\n');
  return block.length > MAX_BLOCK_CHARS ? block.slice(0, MAX_BLOCK_CHARS) : block;
}

/**
 * The sentence announcing the recipient list ("Delivery to the following recipient has been
 * delayed:"), when it is right above the first recipient: it often carries the only words that
 * say what happened.
 */
function introFor(lines: readonly string[], index: number, floor: number): string {
  for (let i = index - 1; i >= floor && i >= index - 4; i--) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    return line.endsWith(':') && line.length < 200 && !line.includes('@') ? line + '\n' : '';
  }
  return '';
}

/**
 * The reason written right above the address, in the same paragraph, when nothing follows it
 * (Lotus Notes: "------- Failure Reasons --------", the reason, then the address).
 */
function reasonAbove(lines: readonly string[], index: number, floor: number): string {
  const line = index - 1 >= floor ? lines[index - 1]!.trim() : '';
  if (line === '' || line.includes('@') || isSectionEnd(line) || line.length > 300) return '';
  return line;
}

/** After a blank line, do the details go on (indented text, or "Technical details...")? */
function looksLikeContinuation(lines: readonly string[], next: number, limit: number, block: readonly string[]): boolean {
  for (let i = next; i < limit; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    if (isSectionEnd(line)) return false;
    if (/^(\s{2,}|\t)/.test(line) && !/@/.test(line.trim().split(/\s/)[0] ?? '')) return true;
    // "For the following reason:" / "The error that the other server returned was:" go on.
    if ((block[block.length - 1] ?? '').endsWith(':')) return true;
    if (block.some((l) => CODE_HINT.test(l))) return false;
    // Details without a code so far: take the next paragraph if it states one.
    for (let k = i; k < Math.min(limit, i + 4) && lines[k]!.trim() !== ''; k++) if (CODE_HINT.test(lines[k]!)) return true;
    return false;
  }
  return false;
}

const CODE_HINT = /(?:^|[\s'"(\[<:#])(?:[45]\d\d[\s\-:]|[45]\.\d{1,3}\.\d{1,3})/;

/** The paragraph(s) of the report that explain the failure, for bounces that name no recipient line. */
function explanation(lines: readonly string[]): string {
  const text = lines.join('\n').trim();
  return text.length > 4000 ? text.slice(0, 4000) : text;
}

function fallbackRecipients(input: HeuristicInput, lines: readonly string[]): string[] {
  const out: string[] = [];
  const usable = (a: string | null): a is string => a !== null && !input.excluded.has(a) && !isSystemAddress(a) && !out.includes(a);
  for (const value of input.headers.get('x-failed-recipients') ?? []) {
    for (const piece of value.split(',')) {
      const a = cleanAddress(piece);
      if (usable(a)) out.push(a);
    }
  }
  if (out.length > 0) return out;
  for (const line of lines) {
    if (line.length > 1000 || !line.includes('@')) continue;
    const m = SENTENCE_PATTERN.exec(line);
    const a = m ? cleanAddress(m[1]!) : null;
    if (usable(a)) return [a];
  }
  if (input.originalTo) {
    const a = firstAddress(input.originalTo);
    if (usable(a)) return [a];
  }
  for (const line of lines) {
    if (line.length > 1000 || !line.includes('@') || /^\s*(?:from|mail from|sender|reply-to)\s*:/i.test(line)) continue;
    const a = firstAddress(line);
    if (usable(a)) return [a];
  }
  return out;
}

interface Transcript {
  text: string;
  command: string;
  remoteMta: string | null;
}

/** Sendmail's "Transcript of session follows": the last command sent before the error reply. */
function sendmailTranscript(lines: readonly string[]): Transcript | null {
  let start = -1;
  for (let i = 0; i < lines.length; i++) {
    if (/transcript of session follows/i.test(lines[i]!)) {
      start = i + 1;
      break;
    }
  }
  if (start === -1) return null;
  const body: string[] = [];
  let command = '';
  let commandFixed = false;
  for (let i = start; i < lines.length && i < start + 200; i++) {
    const line = lines[i]!;
    if (/^\s*-{3,}/.test(line) || /^(reporting-mta|final-recipient)\s*:/i.test(line)) break;
    body.push(line);
    const sent = /^>>>\s{0,4}([A-Za-z]{4})/.exec(line);
    if (sent && !commandFixed) command = sent[1]!.toUpperCase();
    if (/^<<<\s{0,4}[45]\d\d/.test(line) && command) commandFixed = true;
  }
  const text = body.join('\n');
  const normalized = command === 'RCPT' || command === 'MAIL' || command === 'DATA' || command === 'EHLO' || command === 'HELO' ? command : '';
  return { text, command: normalized, remoteMta: findRemoteMta(text) };
}

function buildRecipient(address: string | null, block: string, transcript: Transcript | null): TextRecipient {
  let diagnostic = block;
  const { status, replyCode } = pickCodes(block);
  let codes = { status, replyCode };
  if (transcript && (!status || !replyCode)) {
    // The reason line lacks the codes; the transcript's server reply has them.
    const fromTranscript = pickCodes(transcript.text.split('\n').filter((l) => /^<<<|^\d{3}[ -]/.test(l)).join('\n'));
    codes = { status: status || fromTranscript.status, replyCode: replyCode || fromTranscript.replyCode };
    if (!diagnostic.trim()) diagnostic = transcript.text;
  }
  const command = findCommand(block) || transcript?.command || '';
  const remoteMta = findRemoteMta(block) ?? transcript?.remoteMta ?? null;
  const transcriptReply = transcript ? collapse(transcript.text.split('\n').filter((l) => /^<<<|^\d{3}[ -]/.test(l)).join('\n'), 4000) : undefined;
  return {
    transcriptReply,
    recipient: address && isAddress(address) ? address : null,
    action: 'failed',
    replyCode: codes.replyCode,
    status: codes.status,
    diagnostic: collapse(diagnostic, 4000),
    remoteMta,
    command,
    preset: null,
  };
}
