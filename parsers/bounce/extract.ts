/**
 * Small extractors shared by the DSN reader and the free-text heuristics: reply codes, enhanced
 * status codes, remote MTA names, the SMTP command a reply answered, addresses.
 *
 * Hostile input: every regular expression here is linear (literal anchors, bounded character
 * classes, no nested quantifiers), and callers cap the text they pass in.
 */

/** Reply codes real servers send for failures (RFC 5321 §4.2.3, RFC 3463 examples), plus 250 for delivery reports. */
const REPLY_CODES = new Set([
  '250', '251', '252',
  '421', '422', '431', '432', '441', '442', '446', '447', '449', '450', '451', '452', '453', '454', '455', '458', '459', '471',
  '500', '501', '502', '503', '504', '510', '511', '512', '513', '521', '523', '524', '525', '530', '533', '534', '535', '538',
  '541', '550', '551', '552', '553', '554', '555', '556', '557', '571',
  // Sun ONE / Oracle Communications Messaging Server's over-quota reply.
  '522',
]);

const REPLY_RE = /(?<![\w.=/\-+&%?@$])([245]\d\d)(?![\w]|\.\d)/g;
const STATUS_RE = /(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})(?![\w]|\.\d)/g;

export interface CodeHit {
  code: string;
  index: number;
}

/** Every plausible SMTP reply code in the text, in order. */
export function findReplyCodes(text: string): CodeHit[] {
  const out: CodeHit[] = [];
  for (const m of text.matchAll(REPLY_RE)) {
    if (REPLY_CODES.has(m[1]!)) out.push({ code: m[1]!, index: m.index! });
    if (out.length > 50) break;
  }
  return out;
}

/** Every RFC 3463 status code in the text, in order (X.YYY.ZZZ, not part of an IP address). */
export function findStatusCodes(text: string): CodeHit[] {
  const out: CodeHit[] = [];
  for (const m of text.matchAll(STATUS_RE)) {
    const subject = Number(m[2]);
    if (subject > 7) continue;
    out.push({ code: `${m[1]}.${m[2]}.${m[3]}`, index: m.index! });
    if (out.length > 50) break;
  }
  return out;
}

/**
 * The status and reply code a diagnostic states. With several replies quoted (a transcript, a
 * relay quoting the next hop), the most specific status wins: the last one whose detail is not
 * `.0.0`; the reply code is the one written next to it, else the first one.
 */
export function pickCodes(text: string): { status: string; replyCode: string } {
  const statuses = findStatusCodes(text);
  const replies = findReplyCodes(text);
  let chosen: CodeHit | undefined;
  for (const s of statuses) if (!s.code.endsWith('.0.0')) chosen = s;
  chosen ??= statuses[0];
  const status = chosen ? chosen.code : '';
  const statusIndex = chosen ? chosen.index : -1;
  let replyCode = '';
  if (statusIndex >= 0) {
    // A reply code right before the chosen status: "550 5.1.1", "550-5.1.1", "'550 5.1.10".
    for (const r of replies) {
      if (r.index < statusIndex && statusIndex - r.index <= 6 && r.code[0] === status[0]) replyCode = r.code;
    }
  }
  if (!replyCode) {
    const first = replies.find((r) => r.code[0] === '4' || r.code[0] === '5') ?? replies[0];
    replyCode = first ? first.code : '';
  }
  return { status, replyCode };
}

/** The SMTP command a failure answered, from the wording MTAs use around the reply. */
export function findCommand(text: string): string {
  const t = text.toLowerCase();
  if (/in reply to (?:end of )?data command|after end of data|final data|after data|>>> data|\(data\)|after i sent the message|\[data\]/.test(t)) {
    if (/in reply to rcpt to command|after rcpt to|after rcpt command|rcpt_to\]|does not like recipient|did not like our rcpt/.test(t) && !/in reply to (?:end of )?data|after end of data|final data/.test(t)) return 'RCPT';
    return 'DATA';
  }
  if (/in reply to rcpt to command|after rcpt to|after rcpt command|\[rcpt_to\]|most progress was rcpt to|does not like recipient|did not like our rcpt|>>> rcpt to|rcpt to:<[^>]{0,300}>\s*\.\.\./.test(t)) return 'RCPT';
  if (/in reply to mail from command|after mail from|after mail command|\[mail_from\]|sender was rejected|>>> mail from|most progress was mail from/.test(t)) return 'MAIL';
  if (/after ehlo|>>> ehlo|in reply to ehlo/.test(t)) return 'EHLO';
  if (/after helo|>>> helo|in reply to helo|helo handshake|refused to talk to me/.test(t)) return 'HELO';
  return '';
}

const HOST = '([a-z0-9][a-z0-9.\\-]{0,253}[a-z0-9])';
const REMOTE_PATTERNS: readonly RegExp[] = [
  new RegExp(`host ${HOST}\\s?\\[[0-9a-f.:]{1,45}\\]\\s?(?:said|refused|: |$)`, 'i'),
  new RegExp(`host ${HOST}\\s?\\[[0-9a-f.:]{1,45}\\]`, 'i'),
  new RegExp(`remote server at ${HOST}`, 'i'),
  new RegExp(`(?:receiving|remote) server:? ${HOST}`, 'i'),
  new RegExp(`server at ${HOST}`, 'i'),
  new RegExp(`remote host ${HOST} said`, 'i'),
  new RegExp(`while talking to ${HOST}`, 'i'),
  new RegExp(`server ${HOST}\\[[0-9a-f.:]{1,45}\\] failed`, 'i'),
  new RegExp(`${HOST} \\[[0-9a-f.:]{1,45}\\] did not like`, 'i'),
  new RegExp(`^${HOST} does not like recipient`, 'i'),
  new RegExp(`^${HOST} failed after`, 'i'),
  new RegExp(`connected to ${HOST} but`, 'i'),
  new RegExp(`remote-mta:\\s*(?:dns;\\s*)?${HOST}`, 'i'),
  new RegExp(`smtp server <${HOST}>`, 'i'),
  new RegExp(`by ${HOST}\\.?\\s*\\[[0-9a-f.:]{1,45}\\]`, 'i'),
];

/** The remote server a diagnostic names, lower case, or null. */
export function findRemoteMta(text: string): string | null {
  const capped = text.length > 3000 ? text.slice(0, 3000) : text;
  for (const re of REMOTE_PATTERNS) {
    const m = re.exec(capped);
    if (m && m[1] && m[1].includes('.')) return m[1].toLowerCase().replace(/\.$/, '');
  }
  return null;
}

const ADDRESS_RE = /[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-"]{1,128}@[A-Za-z0-9][A-Za-z0-9.\-]{0,252}[A-Za-z0-9]/;

/** Is this a plausible mailbox (local@domain.tld)? */
export function isAddress(value: string): boolean {
  if (value.length > 320) return false;
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) return false;
  const domain = value.slice(at + 1);
  return /^[A-Za-z0-9][A-Za-z0-9.\-]{0,252}$/.test(domain) && (domain.includes('.') || domain === 'localhost') && !/\s/.test(value);
}

/** The first address in a piece of text, lower case, or null. */
export function firstAddress(text: string): string | null {
  const m = ADDRESS_RE.exec(text.length > 2000 ? text.slice(0, 2000) : text);
  if (!m) return null;
  return cleanAddress(m[0]);
}

/** Trims brackets, quotes that do not belong, a `mailto:` and trailing punctuation; lower case. */
export function cleanAddress(value: string): string | null {
  let v = value.trim();
  if (v.toLowerCase().startsWith('mailto:')) v = v.slice(7);
  v = v.replace(/^[<(\[{'`]+/, '').replace(/[>)\]}'`.,;:]+$/, '');
  const lt = v.indexOf('<');
  if (lt !== -1) v = v.slice(lt + 1);
  const gt = v.indexOf('>');
  if (gt !== -1) v = v.slice(0, gt);
  v = v.trim().toLowerCase();
  return isAddress(v) ? v : null;
}

/**
 * Multi-line SMTP replies pasted as one line repeat their code on each line ("550-5.7.1 Messages
 * with multiple 550-5.7.1 addresses ..."); the repeats are removed so that phrases match.
 */
export function joinMultilineReply(raw: string): string {
  // Sendmail's transcript marks each line of the server's reply with "<<< ".
  const text = raw.includes('<<<') ? raw.replace(/(^|\s)<<<\s?/g, '$1') : raw;
  const m = /(?:^|\s)([245]\d\d)-([245]\.\d{1,3}\.\d{1,3})\s/.exec(text.slice(0, 300));
  if (!m) return text;
  const prefix = new RegExp(`\\s${m[1]}[- ]${m[2]!.replaceAll('.', '\\.')}(?=\\s)`, 'g');
  const headEnd = m.index + m[0].length;
  return text.slice(0, headEnd) + text.slice(headEnd).replace(prefix, '');
}

/** Whitespace collapsed to single spaces, trimmed, at most `max` characters. */
export function collapse(text: string, max = 1000): string {
  const out = text.replace(/\s+/g, ' ').trim();
  return out.length > max ? out.slice(0, max) : out;
}
