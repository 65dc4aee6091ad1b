/**
 * Layer 3 of the reason decision: the remote server's words, read with the phrase table
 * (`reason-phrases.ts`) and the SMTP command they answered. No status code is looked at here.
 *
 * Strong phrases name a reason precisely (mailbox full, user unknown, blocked using a DNSBL);
 * weak ones only hint (system error, timed out) and lose to a generic status code's meaning.
 */
import type { BounceReason } from './reasons.js';
import { CONTEXT_PATTERNS, MTA_SENTENCES, REASON_PHRASES } from './reason-phrases.js';

export interface PhraseInput {
  /** Lower-case diagnostic, CR-free. */
  text: string;
  /** Upper-case SMTP command the reply answered, '' when unknown. */
  command: string;
  /** True when the status or reply code is a 4xx one. */
  temporary: boolean;
}

export interface PhraseVerdict {
  reason: BounceReason;
  strong: boolean;
}

/** Does the text contain a phrase of this reason's table? `text` must already be lower case. */
export function matchesReason(reason: BounceReason, text: string): boolean {
  const table = REASON_PHRASES[reason];
  if (!table || text === '') return false;
  for (const phrase of table) {
    if (typeof phrase === 'string' ? text.includes(phrase) : phrase.test(text)) return true;
  }
  return false;
}

/** Policy, spam and reputation rejections: never read as an unknown address. */
export function isPolicyRejection(text: string): boolean {
  return matchesSpam(text) || matchesReason('badreputation', text) || matchesDnsbl(text) || CONTEXT_PATTERNS.policyWord.test(text);
}

/** Userunknown words, not about the sender, the domain or a policy. */
function isRecipientUnknown(text: string): boolean {
  return matchesReason('userunknown', text) && !matchesSenderRejection(text) && !matchesReason('hostunknown', text) && !isPolicyRejection(text);
}

/** Commands whose refusal is about the sending side: its host name or its envelope sender. */
const SENDER_SIDE_COMMANDS: ReadonlySet<string> = new Set(['HELO', 'EHLO', 'MAIL']);

/** In order of precision: the first probe that holds names the reason. */
const STRONG_PROBES: ReadonlyArray<[BounceReason, (p: PhraseInput) => boolean]> = [
  ['mailboxfull', (p) => matchesReason('mailboxfull', p.text)],
  ['mesgtoobig', (p) => matchesReason('mesgtoobig', p.text) && !matchesReason('exceedlimit', p.text)],
  ['exceedlimit', (p) => matchesReason('exceedlimit', p.text)],
  ['suspend', (p) => matchesReason('suspend', p.text)],
  ['hasmoved', (p) => matchesReason('hasmoved', p.text)],
  ['norelaying', (p) => matchesReason('norelaying', p.text)],
  ['authfailure', (p) => matchesReason('authfailure', p.text)],
  ['userunknown', (p) => p.command === 'RCPT' && isRecipientUnknown(p.text)],
  [
    'filtered',
    (p) => {
      if (p.command === 'RCPT' || p.command === 'MAIL') return false;
      if (matchesReason('filtered', p.text)) return true;
      // An unknown-user reply after DATA is the recipient's filter speaking, not the directory (Sisimai's convention).
      return isRecipientUnknown(p.text);
    },
  ],
  ['requireptr', (p) => matchesReason('requireptr', p.text)],
  ['notcompliantrfc', (p) => matchesReason('notcompliantrfc', p.text)],
  ['badreputation', (p) => matchesReason('badreputation', p.text)],
  ['contenterror', (p) => matchesReason('contenterror', p.text)],
  // An address failure answering MAIL FROM is about the sender's address.
  ['rejected', (p) => matchesSenderRejection(p.text) || (p.command === 'MAIL' && matchesReason('userunknown', p.text))],
  // hostunknown is permanent; a 4xx DNS failure may resolve later (networkerror). A reply to
  // HELO/EHLO or MAIL FROM speaks of our own host or sender domain, never of the recipient's.
  ['hostunknown', (p) => !p.temporary && !SENDER_SIDE_COMMANDS.has(p.command) && !CONTEXT_PATTERNS.temporary.test(p.text) && matchesReason('hostunknown', p.text)],
  ['virusdetected', (p) => CONTEXT_PATTERNS.virusFound.test(p.text)],
  // "Client host blocked for spamming": the sending host is refused (blocked), not this message's content.
  ['spamdetected', (p) => matchesSpam(p.text) && !isSendingHostBlocked(p.text)],
  ['speeding', (p) => matchesReason('speeding', p.text)],
  ['toomanyconn', (p) => matchesReason('toomanyconn', p.text)],
  ['blocked', (p) => matchesReason('blocked', p.text) || matchesDnsbl(p.text)],
];

const WEAK_ORDER: readonly BounceReason[] = [
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

/** The reason a precise phrase names, or null. */
export function strongPhraseReason(input: PhraseInput): BounceReason | null {
  const own = mtaSentenceReason(input.text);
  for (const [reason, probe] of STRONG_PROBES) if (own === reason || probe(input)) return reason;
  return own;
}

/** The reason an MTA's own fixed sentence names, or null. */
function mtaSentenceReason(text: string): BounceReason | null {
  for (const [sentence, reason] of MTA_SENTENCES) if (text.includes(sentence)) return reason;
  return null;
}

/** The reason a hinting phrase names, or null. */
export function weakPhraseReason(text: string): BounceReason | null {
  if (CONTEXT_PATTERNS.domainTakesNoMail.test(text)) return 'notaccept';
  for (const reason of WEAK_ORDER) {
    if (reason === 'spamdetected' ? matchesSpam(text) : matchesReason(reason, text)) return reason;
  }
  return null;
}

/** Sender-side rejections, but not "recipient address rejected" (which is about the recipient). */
function matchesSenderRejection(text: string): boolean {
  return matchesReason('rejected', text);
}

/** "spam" is a short word: require it as a word and not inside a block-list name. */
function matchesSpam(text: string): boolean {
  if (CONTEXT_PATTERNS.spamInListName.some((name) => text.includes(name))) return false;
  if (CONTEXT_PATTERNS.spamWord.test(text)) return true;
  for (const phrase of REASON_PHRASES.spamdetected ?? []) {
    if (typeof phrase === 'string' && phrase.length > 4 && text.includes(phrase)) return true;
  }
  return false;
}

/** The reply refuses the sending host or IP address itself. */
function isSendingHostBlocked(text: string): boolean {
  return CONTEXT_PATTERNS.sendingHostBlocked.test(text);
}

/** A DNS block list named in the reply, e.g. `blocked using zen.spamhaus.org`. */
function matchesDnsbl(text: string): boolean {
  return CONTEXT_PATTERNS.dnsBlockList.test(text);
}
