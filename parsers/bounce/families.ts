/**
 * MTA families of free-text bounces: how to recognise who wrote a report (for the `source` label)
 * and the fixed sentences of each that settle a reason the generic phrase tables would read
 * differently. Only sentences an MTA writes itself belong here, never a remote server's words.
 */
import type { BounceReason } from './reasons.js';

export type Family = string;

interface FamilyInput {
  text: string;
  subject: string;
  from: string;
  headers: ReadonlyMap<string, string[]>;
}

/** Ordered: the first whose test passes names the report. Tests are lower-case substring checks. */
const FAMILIES: ReadonlyArray<{ name: Family; test: (t: string, from: string, subject: string, h: ReadonlyMap<string, string[]>) => boolean }> = [
  { name: 'googlegroups', test: (t) => t.includes('group you tried to contact') || t.includes('google groups') },
  { name: 'gmail', test: (t, from) => from.includes('googlemail.com') || t.includes('delivery to the following recipient') },
  { name: 'office365', test: (t) => t.includes('diagnostic information for administrators') || t.includes('delivery has failed to these recipients') },
  { name: 'exchange', test: (t, _f, _s, h) => t.includes('did not reach the following recipient') || h.has('x-ms-embedded-report') || t.includes('msexch') },
  { name: 'postfix', test: (t) => t.includes('this is the postfix program') || t.includes('this is the mail system at host') },
  { name: 'exim', test: (t, _f, _s, h) => t.includes('this message was created automatically by mail delivery software') || (h.has('x-failed-recipients') && t.includes('address(es) failed')) },
  { name: 'qmail', test: (t) => t.includes('this is the qmail-send program') || t.includes("i wasn't able to deliver your message") },
  { name: 'yahoo', test: (t) => t.includes('unable to deliver your message to the following address') },
  { name: 'sendmail', test: (t) => t.includes('transcript of session follows') || t.includes('had permanent fatal errors') },
  { name: 'amazonses', test: (t, from) => from.includes('amazonses.com') || t.includes('amazon ses') },
  { name: 'courier', test: (t) => t.includes('courier mail server') },
  { name: 'domino', test: (t) => t.includes('domino') || t.includes('lotus') },
  { name: 'opensmtpd', test: (t) => t.includes('this is the mailer-daemon at') },
  { name: 'messagingserver', test: (t) => t.includes('this report relates to a message you sent') },
  { name: 'kddi', test: (_t, from) => from.includes('ezweb.ne.jp') || from.includes('.dion.ne.jp') || from.endsWith('@au.com') },
  { name: 'mailru', test: (_t, from) => from.includes('mail.ru') },
  { name: 'gmx', test: (_t, from) => from.includes('gmx.') },
  { name: 'zoho', test: (_t, from) => from.includes('zoho') },
];

export function classifyFamily(input: FamilyInput): Family {
  const t = (input.text.length > 20_000 ? input.text.slice(0, 20_000) : input.text).toLowerCase();
  for (const f of FAMILIES) if (f.test(t, input.from, input.subject.toLowerCase(), input.headers)) return f.name;
  return 'text';
}

/**
 * Layer 4 of the reason decision: what a family means when its report says nothing more precise.
 * Its own fixed sentences live in the phrase table (`reason-phrases.ts`, MTA_SENTENCES).
 */
export function familyPreset(_family: Family, recipient: { diagnostic: string; recipient: string | null; replyCode: string; status: string }, _input: FamilyInput): BounceReason | null {
  // Google Groups refuses posts from non-members in the poster's language, without a code.
  if (recipient.recipient?.endsWith('@googlegroups.com') && !recipient.replyCode && !recipient.status) return 'rejected';
  return null;
}
