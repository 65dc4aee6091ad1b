/**
 * Layer 1 of the reason decision: RFC 3463 enhanced status codes whose meaning names one reason
 * on its own. Generic codes (X.0.0, X.7.1 "delivery not authorized", X.5.0, ...) are left to the
 * later layers, which read the words; their broad meaning is only the last default.
 */
import type { BounceReason } from './reasons.js';

/** Keyed by subject.detail; the class (4 or 5) does not change the reason. */
const SPECIFIC_DETAIL: Readonly<Record<string, BounceReason>> = {
  '1.1': 'userunknown', // bad destination mailbox address (RFC 3463 §3.2)
  '1.2': 'hostunknown', // bad destination system address (RFC 3463 §3.2)
  '1.3': 'userunknown', // bad destination mailbox address syntax (RFC 3463 §3.2)
  '1.6': 'hasmoved', // destination mailbox has moved, no forwarding address (RFC 3463 §3.2)
  '1.7': 'rejected', // bad sender's mailbox address syntax (RFC 3463 §3.2)
  '1.8': 'rejected', // bad sender's system address (RFC 3463 §3.2)
  '1.10': 'notaccept', // recipient address has null MX (RFC 7505 §4.2)
  '2.2': 'mailboxfull', // mailbox full (RFC 3463 §3.3)
  '2.3': 'exceedlimit', // message length exceeds administrative limit (RFC 3463 §3.3)
  '3.4': 'mesgtoobig', // message too big for system (RFC 3463 §3.4)
  '7.13': 'suspend', // user account disabled (IANA SMTP enhanced status code registry)
  '7.17': 'hasmoved', // mailbox owner has changed (RFC 7293)
  '7.18': 'hasmoved', // domain owner has changed (RFC 7293)
  '7.20': 'authfailure', // no passing DKIM signature found (RFC 7372)
  '7.21': 'authfailure', // no acceptable DKIM signature found (RFC 7372)
  '7.22': 'authfailure', // no valid author-matched DKIM signature found (RFC 7372)
  '7.23': 'authfailure', // SPF validation failed (RFC 7372)
  '7.24': 'authfailure', // SPF validation error (RFC 7372)
  '7.25': 'requireptr', // reverse DNS validation failed (RFC 7372)
  '7.26': 'authfailure', // multiple authentication checks failed (RFC 7372)
  '7.27': 'notaccept', // sender address has null MX (RFC 7505)
  '7.30': 'failedstarttls', // REQUIRETLS support required (RFC 8689)
};

/**
 * The reason a specific RFC 3463 status names, or null for a generic or absent code.
 * @param command upper-case SMTP command the reply answered, '' when unknown
 */
export function reasonOfSpecificStatus(status: string, command = ''): BounceReason | null {
  const match = /^[245]\.(\d{1,3}\.\d{1,3})$/.exec(status);
  if (!match) return null;
  // X.4.4 "unable to route" is permanent (no such domain) as 5.4.4, a DNS hiccup as 4.4.4.
  if (match[1] === '4.4') return status[0] === '5' ? 'hostunknown' : 'networkerror';
  const reason = SPECIFIC_DETAIL[match[1]!] ?? null;
  // An address failure answering MAIL FROM is about the sender's address.
  if (command === 'MAIL' && (reason === 'userunknown' || reason === 'hostunknown')) return 'rejected';
  return reason;
}
