/**
 * Bounce reason classifier: status code, reply code and the remote server's words to one reason of
 * a closed vocabulary, plus hard/soft.
 *
 * The vocabulary and the hard/soft notion are Sisimai's (https://libsisimai.org, BSD 2-Clause),
 * because the bounce corpus we score against is labelled with them. The phrase tables below are our
 * own collection of what MTAs say; they are lower-case substrings or short anchored regexes (the
 * input is hostile: nothing here can backtrack, and the text is capped before matching).
 *
 * Order of decision, loosely following how the corpus labels reasons:
 *  1. A reason the MTA-specific parser already knows for sure (its own error table).
 *  2. First pass: reasons that a status code or a precise phrase settle (mailbox full, size,
 *     suspended, moved, relaying, authentication, unknown user, filtered, PTR, RFC compliance,
 *     reputation, content, rejected sender, unknown host, spam, rate, connections, blocked).
 *  3. Second pass: the remaining phrase tables (system errors, network, expiry, TLS, ...).
 *  4. The status code's own meaning, its class (X.6 content, X.7 security), the action, the
 *     command; then vacation, onhold (there is a diagnostic), undefined.
 */
import { REASON_PHRASES as PHRASES } from './bounce/reason-phrases.js';

export const BOUNCE_REASONS = [
  'authfailure',
  'badreputation',
  'blocked',
  'contenterror',
  'delivered',
  'exceedlimit',
  'expired',
  'failedstarttls',
  'feedback',
  'filtered',
  'hasmoved',
  'hostunknown',
  'mailboxfull',
  'mailererror',
  'mesgtoobig',
  'networkerror',
  'norelaying',
  'notaccept',
  'notcompliantrfc',
  'onhold',
  'policyviolation',
  'rejected',
  'requireptr',
  'securityerror',
  'spamdetected',
  'speeding',
  'suppressed',
  'suspend',
  'syntaxerror',
  'systemerror',
  'systemfull',
  'toomanyconn',
  'undefined',
  'userunknown',
  'vacation',
  'virusdetected',
] as const;

export type BounceReason = (typeof BOUNCE_REASONS)[number];

export interface ReasonInput {
  /** RFC 3463 status, '' when none (private X.0.9NN codes are ignored). */
  status: string;
  /** SMTP reply code, '' when none. */
  replyCode: string;
  /** The remote server's words. */
  diagnostic: string;
  /** Upper-case diagnostic type of a DSN (`SMTP`, `X-POSTFIX`, `X-UNIX`), '' when none. */
  diagnosticType?: string;
  /** SMTP command the failure answered (`RCPT`, `MAIL`, `DATA`, `EHLO`, `HELO`, `CONN`), '' when unknown. */
  command?: string;
  action?: string | null;
  /** A reason the MTA-specific parser read from its own table. */
  preset?: BounceReason | null;
}

/** Longest diagnostic the phrase tables look at: hostile input cannot make matching slow. */
const MAX_MATCH_CHARS = 4000;

/** Reasons an RFC 3463 code stands for (RFC 3463 §3 and the IANA registry). */
const STATUS_REASON: Record<string, BounceReason> = {
  '2.1.5': 'delivered',
  '4.1.6': 'hasmoved',
  '4.1.7': 'rejected',
  '4.1.8': 'rejected',
  '4.1.9': 'systemerror',
  '4.2.1': 'blocked',
  '4.2.2': 'mailboxfull',
  '4.2.3': 'exceedlimit',
  '4.2.4': 'filtered',
  '4.3.1': 'systemfull',
  '4.3.2': 'notaccept',
  '4.3.3': 'systemerror',
  '4.3.5': 'systemerror',
  '4.4.1': 'expired',
  '4.4.2': 'networkerror',
  '4.4.3': 'systemerror',
  '4.4.4': 'networkerror',
  '4.4.5': 'systemfull',
  '4.4.6': 'networkerror',
  '4.4.7': 'expired',
  '4.4.8': 'networkerror',
  '4.5.3': 'systemerror',
  '4.5.5': 'systemerror',
  '4.6.0': 'contenterror',
  '4.6.2': 'contenterror',
  '4.6.5': 'contenterror',
  '4.7.1': 'blocked',
  '4.7.2': 'blocked',
  '4.7.5': 'securityerror',
  '4.7.6': 'securityerror',
  '4.7.7': 'securityerror',
  '4.7.12': 'securityerror',
  '4.7.15': 'securityerror',
  '4.7.16': 'mesgtoobig',
  '4.7.24': 'authfailure',
  '4.7.25': 'requireptr',
  '4.7.26': 'authfailure',
  '5.1.0': 'userunknown',
  '5.1.1': 'userunknown',
  '5.1.2': 'hostunknown',
  '5.1.3': 'userunknown',
  '5.1.4': 'filtered',
  '5.1.6': 'hasmoved',
  '5.1.7': 'rejected',
  '5.1.8': 'rejected',
  '5.1.9': 'systemerror',
  '5.1.10': 'notaccept',
  '5.2.0': 'filtered',
  '5.2.1': 'filtered',
  '5.2.2': 'mailboxfull',
  '5.2.3': 'exceedlimit',
  '5.2.4': 'filtered',
  '5.3.0': 'systemerror',
  '5.3.1': 'systemfull',
  '5.3.2': 'notaccept',
  '5.3.3': 'systemerror',
  '5.3.4': 'mesgtoobig',
  '5.3.5': 'systemerror',
  '5.4.0': 'networkerror',
  '5.4.3': 'systemerror',
  '5.4.4': 'hostunknown',
  '5.5.2': 'syntaxerror',
  '5.5.3': 'toomanyconn',
  '5.5.4': 'systemerror',
  '5.5.5': 'systemerror',
  '5.5.6': 'syntaxerror',
  '5.6.0': 'contenterror',
  '5.6.1': 'contenterror',
  '5.6.2': 'contenterror',
  '5.6.3': 'contenterror',
  '5.6.5': 'contenterror',
  '5.6.6': 'contenterror',
  '5.6.7': 'contenterror',
  '5.6.8': 'contenterror',
  '5.6.9': 'contenterror',
  '5.7.0': 'securityerror',
  '5.7.1': 'securityerror',
  '5.7.2': 'securityerror',
  '5.7.3': 'securityerror',
  '5.7.4': 'securityerror',
  '5.7.5': 'securityerror',
  '5.7.6': 'securityerror',
  '5.7.7': 'securityerror',
  '5.7.8': 'securityerror',
  '5.7.9': 'securityerror',
  '5.7.10': 'securityerror',
  '5.7.11': 'securityerror',
  '5.7.13': 'suspend',
  '5.7.14': 'securityerror',
  '5.7.15': 'securityerror',
  '5.7.16': 'mesgtoobig',
  '5.7.17': 'hasmoved',
  '5.7.18': 'hasmoved',
  '5.7.19': 'securityerror',
  '5.7.20': 'authfailure',
  '5.7.21': 'authfailure',
  '5.7.22': 'authfailure',
  '5.7.23': 'authfailure',
  '5.7.24': 'authfailure',
  '5.7.25': 'requireptr',
  '5.7.26': 'authfailure',
  '5.7.27': 'notaccept',
  '5.7.28': 'spamdetected',
  '5.7.29': 'authfailure',
  '5.7.30': 'failedstarttls',
};

/** Reasons whose first guess is worth a second look with the diagnostic text. */
const WEAK_REASONS: ReadonlySet<BounceReason> = new Set([
  'undefined',
  'onhold',
  'systemerror',
  'securityerror',
  'expired',
  'networkerror',
  'hostunknown',
  'userunknown',
]);

/** Sisimai-style private status codes (X.0.9NN) for a bounce that carries no RFC 3463 code. */
const PRIVATE_CODE: Partial<Record<BounceReason, string>> = {
  authfailure: '926',
  badreputation: '975',
  blocked: '971',
  contenterror: '960',
  exceedlimit: '923',
  expired: '947',
  failedstarttls: '976',
  filtered: '910',
  hasmoved: '916',
  hostunknown: '912',
  mailboxfull: '922',
  mailererror: '939',
  mesgtoobig: '934',
  networkerror: '944',
  norelaying: '909',
  notaccept: '932',
  notcompliantrfc: '974',
  onhold: '901',
  policyviolation: '972',
  rejected: '918',
  requireptr: '973',
  securityerror: '970',
  spamdetected: '980',
  speeding: '946',
  suppressed: '903',
  suspend: '921',
  systemerror: '930',
  systemfull: '931',
  syntaxerror: '902',
  toomanyconn: '945',
  userunknown: '911',
  undefined: '900',
  virusdetected: '981',
};

/** The reason an RFC 3463 code stands for, or null. */
export function reasonOfStatus(status: string): BounceReason | null {
  return STATUS_REASON[status] ?? null;
}

/** True for a status like `5.0.910`: a private code, not an RFC 3463 one. */
export function isPrivateStatus(status: string): boolean {
  const third = status.split('.')[2];
  return third !== undefined && third.length === 3 && third.startsWith('9');
}

/**
 * The private status for a reason (`5.0.911` for userunknown), used when the bounce states no RFC
 * 3463 code; '' for reasons that are not failures (vacation, feedback, delivered).
 */
export function privateStatus(reason: BounceReason, temporary: boolean): string {
  const code = PRIVATE_CODE[reason];
  if (!code) return '';
  if (temporary && (reason === 'hostunknown' || reason === 'userunknown' || reason === 'hasmoved')) return `5.0.${code}`;
  if (temporary && reason === 'filtered') return '4.0.924';
  return `${temporary ? '4' : '5'}.0.${code}`;
}

/** Does the text contain a phrase of this reason's table? `text` must already be lower case. */
export function matchesReason(reason: BounceReason, text: string): boolean {
  const table = PHRASES[reason];
  if (!table || text === '') return false;
  for (const phrase of table) {
    if (typeof phrase === 'string' ? text.includes(phrase) : phrase.test(text)) return true;
  }
  return false;
}

interface Context {
  status: string;
  statusReason: BounceReason | null;
  text: string;
  command: string;
  replyCode: string;
  preset: BounceReason | null;
}

/** First pass: each probe says whether the reason is settled by the status code or a precise phrase. */
const FIRST_PASS: ReadonlyArray<[BounceReason, (c: Context) => boolean]> = [
  ['mailboxfull', (c) => c.statusReason === 'mailboxfull' || matchesReason('mailboxfull', c.text)],
  ['mesgtoobig', (c) => c.statusReason === 'mesgtoobig' || (c.statusReason !== 'exceedlimit' && matchesReason('mesgtoobig', c.text) && !matchesReason('exceedlimit', c.text))],
  ['exceedlimit', (c) => c.statusReason === 'exceedlimit' || matchesReason('exceedlimit', c.text)],
  ['suspend', (c) => c.statusReason === 'suspend' || matchesReason('suspend', c.text)],
  ['hasmoved', (c) => c.statusReason === 'hasmoved' || matchesReason('hasmoved', c.text)],
  ['norelaying', (c) => matchesReason('norelaying', c.text)],
  ['authfailure', (c) => c.statusReason === 'authfailure' || matchesReason('authfailure', c.text)],
  [
    'userunknown',
    (c) => {
      if (c.command === 'MAIL') return false;
      // Exchange Online Protection's directory-based edge blocking: the recipient does not exist.
      if (c.text.includes('recipient address rejected: access denied')) return true;
      // Exchange Online writes 5.1.10 (RFC 7505 null MX) for "recipient not found".
      if (c.status === '5.1.10' && matchesReason('userunknown', c.text)) return true;
      if (c.statusReason === 'userunknown') {
        // A 5.1.x with words of a more precise reason is that reason (checked by the later probes).
        for (const other of ['norelaying', 'blocked', 'mailboxfull', 'hasmoved', 'rejected', 'notaccept'] as const) {
          if (other === 'rejected' ? matchesSenderRejection(c.text) : matchesReason(other, c.text)) return false;
        }
        return true;
      }
      if (c.statusReason === 'filtered' && c.command === 'RCPT') return matchesReason('userunknown', c.text);
      return c.command === 'RCPT' && c.statusReason !== 'suspend' && matchesReason('userunknown', c.text) && !matchesSenderRejection(c.text) && !matchesReason('hostunknown', c.text);
    },
  ],
  [
    'filtered',
    (c) => {
      if (c.statusReason === 'suspend') return false;
      if (c.statusReason === 'filtered') return true;
      if (c.command === 'RCPT' || c.command === 'MAIL') return false;
      if (matchesReason('filtered', c.text)) return true;
      return matchesReason('userunknown', c.text) && !matchesSenderRejection(c.text) && !matchesReason('hostunknown', c.text);
    },
  ],
  ['requireptr', (c) => c.statusReason === 'requireptr' || matchesReason('requireptr', c.text)],
  ['notcompliantrfc', (c) => matchesReason('notcompliantrfc', c.text)],
  ['badreputation', (c) => matchesReason('badreputation', c.text)],
  ['contenterror', (c) => c.statusReason === 'contenterror' || matchesReason('contenterror', c.text)],
  [
    'rejected',
    (c) =>
      c.statusReason === 'rejected' ||
      matchesSenderRejection(c.text) ||
      // An address failure answering MAIL FROM is about the sender's address.
      (c.command === 'MAIL' && (c.statusReason === 'userunknown' || c.statusReason === 'hostunknown' || matchesReason('userunknown', c.text))),
  ],
  [
    'hostunknown',
    (c) =>
      !/try again|temporar/.test(c.text) &&
      // hostunknown is permanent; a 4xx DNS failure may resolve later (networkerror).
      c.status[0] !== '4' &&
      c.replyCode[0] !== '4' &&
      ((c.statusReason === 'hostunknown' && !matchesReason('notaccept', c.text)) || matchesReason('hostunknown', c.text)),
  ],
  ['virusdetected', (c) => /\bvirus(?:es)? (?:detected|found)|contains? (?:a |an )?virus|infected|malware|mcspamsignature/.test(c.text)],
  ['spamdetected', (c) => c.statusReason === 'spamdetected' || matchesSpam(c.text)],
  ['speeding', (c) => matchesReason('speeding', c.text)],
  ['toomanyconn', (c) => c.statusReason === 'toomanyconn' || matchesReason('toomanyconn', c.text)],
  ['blocked', (c) => c.statusReason === 'blocked' || matchesReason('blocked', c.text) || matchesDnsbl(c.text)],
];

const SECOND_PASS: readonly BounceReason[] = [
  'mailboxfull',
  'authfailure',
  'badreputation',
  'speeding',
  'spamdetected',
  'virusdetected',
  'policyviolation',
  'norelaying',
  'systemerror',
  'networkerror',
  'suspend',
  'contenterror',
  'systemfull',
  'notaccept',
  'expired',
  'failedstarttls',
  'securityerror',
  'mailererror',
];

/** Phrases that say the domain takes no mail at all (RFC 7505 null MX and the like). */
const STRONG_NOTACCEPT = /null mx|doesn't receive email|does not receive email|does not accept mail|no smtp service|couldn't find a mail exchanger|could not find a mail exchanger|not accepting network messages/;

/** Sender-side rejections, but not "recipient address rejected" (which is about the recipient). */
function matchesSenderRejection(text: string): boolean {
  const table = PHRASES.rejected!;
  for (const phrase of table) {
    if (typeof phrase !== 'string') continue;
    if (phrase === 'domain does not exist' || phrase === 'no such domain' || phrase === 'access denied') {
      // Only about the sender when the sentence says so.
      continue;
    }
    if (text.includes(phrase)) return true;
  }
  return false;
}

/** "spam" is a short word: require it as a word and not inside a block-list name. */
function matchesSpam(text: string): boolean {
  if (text.includes('spamhaus') || text.includes('spamcop')) return false;
  if (/\bspam\b|\bube\b|\buce\b/.test(text)) return true;
  for (const phrase of PHRASES.spamdetected!) {
    if (typeof phrase === 'string' && phrase.length > 4 && phrase !== 'spam' && text.includes(phrase)) return true;
  }
  return false;
}

/** A DNS block list named in the reply, e.g. `blocked using zen.spamhaus.org`. */
function matchesDnsbl(text: string): boolean {
  return /\b(spamhaus|spamcop|sorbs|barracudacentral|dnsbl|rbl)\b/.test(text);
}

/**
 * Decides the reason of one recipient's failure. Pure and total: every input gives a reason.
 */
export function classifyBounceReason(input: ReasonInput): BounceReason {
  const preset = input.preset ?? null;
  if (preset && !WEAK_REASONS.has(preset)) return preset;
  const status = isPrivateStatus(input.status) ? '' : input.status;
  if (status.startsWith('2.')) return 'delivered';
  const text = input.diagnostic.slice(0, MAX_MATCH_CHARS).toLowerCase();
  const command = (input.command ?? '').toUpperCase();
  const diagnosticType = (input.diagnosticType ?? '').toUpperCase();
  const statusReason = reasonOfStatus(status);
  const ctx: Context = { status, statusReason, text, command, replyCode: input.replyCode, preset };

  // Local delivery errors (X-Postfix, X-Unix: a full disk, a failing program) are not SMTP replies.
  if (!diagnosticType.startsWith('X-UNIX') && !diagnosticType.startsWith('X-POSTFIX')) {
    for (const [reason, probe] of FIRST_PASS) {
      if (preset === reason || probe(ctx)) return reason;
    }
  }
  if (preset) return preset;

  // Second pass: the status code did not settle it; read the words.
  if (statusReason === null || WEAK_REASONS.has(statusReason) || diagnosticType !== 'SMTP') {
    if (STRONG_NOTACCEPT.test(text)) return 'notaccept';
    for (const reason of SECOND_PASS) {
      if (reason === 'spamdetected' ? matchesSpam(text) : matchesReason(reason, text)) return reason;
    }
  }
  if (statusReason) return statusReason;
  const subject = status.slice(0, 3);
  if (subject === '5.6' || subject === '4.6') return 'contenterror';
  if (subject === '5.7' || subject === '4.7') return 'securityerror';
  if (diagnosticType.startsWith('X-UNIX')) return 'mailererror';
  if (isSyntaxError(input.replyCode, status)) return 'syntaxerror';
  if (input.action === 'delayed' || input.action === 'expired') return 'expired';
  if (command === 'EHLO' || command === 'HELO') return 'blocked';
  if (matchesReason('vacation', text)) return 'vacation';
  return text.trim() !== '' ? 'onhold' : 'undefined';
}

function isSyntaxError(replyCode: string, status: string): boolean {
  if (/^50[0-4]$/.test(replyCode)) return true;
  return status === '5.5.2' || status === '5.5.6';
}

/**
 * Hard bounces are permanent for the address itself (it does not exist, its domain does not, it
 * moved); everything else may work later or with another sender. `notaccept` is hard only when
 * permanent (5xx / 5.x.x). Not failures at all: delivered, feedback, vacation.
 */
export function isHardBounce(reason: BounceReason, status: string, replyCode: string): boolean {
  if (reason === 'userunknown' || reason === 'hostunknown' || reason === 'hasmoved') return true;
  if (reason === 'notaccept') {
    const code = status || replyCode;
    return !code.startsWith('4');
  }
  return false;
}
