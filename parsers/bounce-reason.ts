/**
 * Bounce reason decision: status code, reply code and the remote server's words to one reason of
 * a closed vocabulary (`bounce/reasons.ts`), plus hard/soft.
 *
 * Decided in layers, each a pure function testable alone:
 *  - vendor (`bounce/reason-vendor.ts`): a code a provider documents (Microsoft 5.7.606-649,
 *    Yahoo TSS04, ...); it is more precise than the RFC 3463 status it travels with;
 *  - status (`bounce/reason-status.ts`): a specific RFC 3463 code (X.1.1, X.2.2, X.7.26, ...);
 *  - phrase (`bounce/reason-phrase.ts` reading the table `bounce/reason-phrases.ts`): precise
 *    words; they beat an address status when they name another cause (policy, spam, full);
 *  - family (`bounce/families.ts`): what an MTA family's report means when it says no more;
 *  - default: the generic status' meaning, hinting words, the class, the action, the command.
 * The layer that decided is returned with the reason (`decidedBy`).
 */
import { BOUNCE_REASONS, type BounceReason } from './bounce/reasons.js';
import { isPolicyRejection, matchesReason, strongPhraseReason, weakPhraseReason } from './bounce/reason-phrase.js';
import { reasonOfSpecificStatus } from './bounce/reason-status.js';
import { reasonOfVendorCode } from './bounce/reason-vendor.js';

export { BOUNCE_REASONS, type BounceReason };

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
  /** The sending MTA's own class of the failure from its DSN, as `mta:class` (`powermta:bad-mailbox`). */
  mtaCategory?: string;
}

/** Longest diagnostic the phrase tables look at: hostile input cannot make matching slow. */
const MAX_MATCH_CHARS = 4000;

/**
 * The broad reason of the RFC 3463 codes the status layer (`bounce/reason-status.ts`) leaves
 * open (RFC 3463 §3 and the IANA registry): a last default once vendor codes and words have
 * said nothing. The specific codes are that layer's alone.
 */
const GENERIC_STATUS_REASON: Record<string, BounceReason> = {
  '2.1.5': 'delivered',
  '4.1.9': 'systemerror',
  '4.2.1': 'blocked',
  '4.2.4': 'filtered',
  '4.3.1': 'systemfull',
  '4.3.2': 'notaccept',
  '4.3.3': 'systemerror',
  '4.3.5': 'systemerror',
  '4.4.1': 'expired',
  '4.4.2': 'networkerror',
  '4.4.3': 'systemerror',
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
  '5.1.0': 'userunknown',
  '5.1.4': 'filtered',
  '5.1.9': 'systemerror',
  '5.2.0': 'filtered',
  '5.2.1': 'filtered',
  '5.2.4': 'filtered',
  '5.3.0': 'systemerror',
  '5.3.1': 'systemfull',
  '5.3.2': 'notaccept',
  '5.3.3': 'systemerror',
  '5.3.5': 'systemerror',
  '5.4.0': 'networkerror',
  '5.4.3': 'systemerror',
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
  '5.7.14': 'securityerror',
  '5.7.15': 'securityerror',
  '5.7.16': 'mesgtoobig',
  '5.7.19': 'securityerror',
  '5.7.28': 'spamdetected',
  '5.7.29': 'authfailure',
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

/** The broad reason of a generic RFC 3463 code, or null. */
function reasonOfGenericStatus(status: string): BounceReason | null {
  return GENERIC_STATUS_REASON[status] ?? null;
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

/** Which layer decided a reason: each is a pure function, testable alone. */
export type ReasonLayer = 'status' | 'vendor' | 'phrase' | 'family' | 'default' | 'report';

export interface ReasonDecision {
  reason: BounceReason;
  decidedBy: ReasonLayer;
}

/** Reasons about the address itself: a phrase naming any other cause beats a status saying so. */
const ADDRESS_REASONS: ReadonlySet<BounceReason> = new Set(['userunknown', 'hostunknown']);

/**
 * Decides the reason of one recipient's failure, layer by layer: a vendor's documented code, a
 * specific RFC 3463 status, a precise phrase, the MTA family's own sentences, then defaults (the
 * generic status' meaning, hinting phrases, class, action, command). Pure and total.
 */
export function decideBounceReason(input: ReasonInput): ReasonDecision {
  const preset = input.preset ?? null;
  const status = isPrivateStatus(input.status) ? '' : input.status;
  if (status.startsWith('2.')) return { reason: 'delivered', decidedBy: 'status' };
  const text = input.diagnostic.slice(0, MAX_MATCH_CHARS).toLowerCase();
  const command = (input.command ?? '').toUpperCase();
  const diagnosticType = (input.diagnosticType ?? '').toUpperCase();
  const temporary = status.startsWith('4') || input.replyCode.startsWith('4');

  const vendor = reasonOfVendorCode({ status, replyCode: input.replyCode, text, mtaCategory: input.mtaCategory });
  if (vendor) return { reason: vendor, decidedBy: 'vendor' };

  // Local delivery errors (X-Postfix, X-Unix: a full disk, a failing program) are not SMTP replies.
  const localDelivery = diagnosticType.startsWith('X-UNIX') || diagnosticType.startsWith('X-POSTFIX');
  const strong = localDelivery ? null : strongPhraseReason({ text, command, temporary });
  const specific = reasonOfSpecificStatus(status, command);
  if (localDelivery) {
    // A local program's or disk's words ("mail.local: ...") are more precise than the status it was given.
    const local = weakPhraseReason(text);
    if (local) return { reason: local, decidedBy: 'phrase' };
  }
  if (specific === 'hostunknown' && matchesReason('notaccept', text)) return { reason: 'notaccept', decidedBy: 'phrase' };
  if (specific) {
    // The more specific evidence wins: "5.1.1 ... blocked by policy" is a policy rejection.
    if (strong && strong !== specific && ADDRESS_REASONS.has(specific) && !ADDRESS_REASONS.has(strong) && strong !== 'filtered') {
      return { reason: strong, decidedBy: 'phrase' };
    }
    if (specific === 'userunknown' && isPolicyRejection(text)) return { reason: strong ?? weakPhraseReason(text) ?? 'policyviolation', decidedBy: 'phrase' };
    return { reason: specific, decidedBy: 'status' };
  }
  if (strong) return { reason: strong, decidedBy: 'phrase' };
  if (preset) return { reason: preset, decidedBy: 'family' };

  const generic = reasonOfGenericStatus(status);
  if (generic && !WEAK_REASONS.has(generic) && diagnosticType === 'SMTP') return { reason: generic, decidedBy: 'status' };
  const weak = weakPhraseReason(text);
  if (weak) return { reason: weak, decidedBy: 'phrase' };
  return { reason: defaultReason(generic, status, input, command, diagnosticType, text), decidedBy: generic ? 'status' : 'default' };
}

/** The reason alone (the daemon's SMTP refusals, older callers). */
export function classifyBounceReason(input: ReasonInput): BounceReason {
  return decideBounceReason(input).reason;
}

/** Nothing specific was said: the generic status' meaning, its class, the action, the command. */
function defaultReason(generic: BounceReason | null, status: string, input: ReasonInput, command: string, diagnosticType: string, text: string): BounceReason {
  if (generic) return generic;
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
 * moved, its domain takes no mail); everything else may work later or with another sender. A
 * failure the remote server called temporary (a 4.X.X status, or a 4xx reply without a status) is
 * never hard, whatever its words: RFC 3463 class 4 means the address may work when the condition
 * passes (a Postfix "450 4.1.1 unverified address", a mailbox briefly unavailable), and reading
 * it as hard would stop mail to an address that exists. Not failures at all: delivered, feedback,
 * vacation. `status` is the RFC 3463 code the report carries ('' when none, never a private one).
 */
export function isHardBounce(reason: BounceReason, status: string, replyCode: string): boolean {
  if (reason !== 'userunknown' && reason !== 'hostunknown' && reason !== 'hasmoved' && reason !== 'notaccept') return false;
  const code = isPrivateStatus(status) ? replyCode : status || replyCode;
  return !code.startsWith('4');
}
