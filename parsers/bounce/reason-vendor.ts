/**
 * Layer 2 of the reason decision: codes that one mailbox provider documents for its own replies,
 * read together with the SMTP reply. Each entry names the vendor's page it comes from; a code
 * here is more precise than the generic RFC 3463 status it travels with (a Microsoft 5.7.606 or
 * a Yahoo TSS04 both come as "5.7.1"-like rejections).
 */
import type { BounceReason } from './reasons.js';

export interface VendorInput {
  /** RFC 3463 status, '' when none. */
  status: string;
  replyCode: string;
  /** Lower-case diagnostic. */
  text: string;
  /** The sending MTA's own class of the failure, `mta:class` in lower case (`powermta:bad-mailbox`). */
  mtaCategory?: string;
}

interface VendorRule {
  reason: BounceReason;
  test: (input: VendorInput) => boolean;
}

/** Microsoft's banned-sending-IP range, 5.7.606 to 5.7.649. */
function isMicrosoftBannedIp(status: string): boolean {
  const m = /^5\.7\.(\d{3})$/.exec(status);
  return m !== null && Number(m[1]) >= 606 && Number(m[1]) <= 649;
}

/** A test for one code, given as the status or written in the reply's text. */
function carriesCode(code: string): (input: VendorInput) => boolean {
  const written = new RegExp(`\\b${code.replaceAll('.', '\\.')}\\b`);
  return (i) => i.status === code || written.test(i.text);
}

/** Exchange Online's Directory-Based Edge Blocking status, 5.4.1. */
const carriesEdgeBlockingCode = carriesCode('5.4.1');

const VENDOR_RULES: readonly VendorRule[] = [
  // Exchange Online, "Fix NDR error codes 5.7.606 through 5.7.649":
  // https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/fix-error-code-5-7-606-through-5-7-649-in-exchange-online
  { reason: 'blocked', test: (i) => isMicrosoftBannedIp(i.status) || /\b5\.7\.6(?:0[6-9]|[1-4]\d)\b/.test(i.text) },
  // Exchange Online, "Fix NDR error code 5.1.10": RESOLVER.ADR.RecipientNotFound, the recipient does not exist.
  // https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/fix-error-code-5-1-10-in-exchange-online
  { reason: 'userunknown', test: (i) => i.text.includes('resolver.adr.recipientnotfound') || i.text.includes('recipientnotfound') },
  // Exchange Online, "Fix NDR error code 550 5.4.1": Directory-Based Edge Blocking, "Recipient address rejected: Access denied".
  // https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/fix-error-code-550-5-4-1-in-exchange-online
  // The same words are Postfix's answer for any check_recipient_access REJECT (a policy, 5.7.1):
  // only Microsoft's 5.4.1 or its "AS(nnn)" tag makes them an unknown recipient.
  {
    reason: 'userunknown',
    test: (i) => i.text.includes('recipient address rejected: access denied') && (carriesEdgeBlockingCode(i) || /\bas\(\d+\)/.test(i.text)),
  },
  // Exchange Online, "Fix NDR error code 5.7.509": the sending domain does not pass DMARC.
  // https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/fix-error-code-5-7-509-in-exchange-online
  { reason: 'authfailure', test: carriesCode('5.7.509') },
  // Exchange Online, "Fix NDR error code 5.7.708": traffic not accepted from this IP (low reputation).
  // https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/fix-error-code-5-7-708-in-exchange-online
  { reason: 'badreputation', test: carriesCode('5.7.708') },
  // Exchange Online, "Non-delivery reports in Exchange Online" (the 5.4.3xx routing codes): 5.4.312
  // "DNS query failed", 5.4.316 "Message expired, connection refused", 5.4.300 "Message expired".
  // https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/non-delivery-reports-in-exchange-online
  { reason: 'networkerror', test: carriesCode('5.4.312') },
  { reason: 'expired', test: (i) => /^[45]\.4\.(?:300|316)$/.test(i.status) || /\b[45]\.4\.(?:300|316)\b/.test(i.text) },
  // Google Workspace, "SMTP error reference" (https://support.google.com/a/answer/3726730):
  // 550 5.7.26 unauthenticated mail (DMARC/SPF/DKIM); 550 5.7.1 "[IP] ... low reputation";
  // 550 5.7.1 "likely unsolicited mail"; 550 5.2.1 "The email account that you tried to reach is disabled/inactive".
  { reason: 'authfailure', test: (i) => /\b5\.7\.26\b/.test(i.text) && i.text.includes('unauthenticated') },
  { reason: 'badreputation', test: (i) => i.text.includes('gsmtp') && i.text.includes('low reputation') },
  { reason: 'spamdetected', test: (i) => i.text.includes('gsmtp') && i.text.includes('likely unsolicited mail') },
  { reason: 'suspend', test: (i) => /the email account that you tried to reach is (?:disabled|inactive)/.test(i.text) },
  // 552 5.7.0 "This message was blocked because its content presents a potential security issue" (answer 6590).
  { reason: 'policyviolation', test: (i) => i.text.includes('content presents a potential security issue') || i.text.includes('support.google.com/mail/answer/6590') },
  // Yahoo Sender Hub, "SMTP error codes" (https://senders.yahooinc.com/smtp-error-codes/):
  // TSS04 deferred for unexpected volume or user complaints; TSS09 / TS03 permanently deferred (blocked).
  { reason: 'badreputation', test: (i) => /\btss04\b/.test(i.text) },
  { reason: 'blocked', test: (i) => /\b(?:tss09|ts03)\b/.test(i.text) },
  // Cox, "Error Codes" (http://postmaster.cox.net/confluence/display/postmaster/Error+Codes, the page
  // its replies link to): CXBL and CDRBL block the sending IP for spam-like behaviour; IPBL0001 to
  // IPBL1000 say which DNS block lists name it.
  { reason: 'blocked', test: (i) => /\b(?:ipbl[01]{4}|cxbl|cdrbl)\b/.test(i.text) },
  // 554 "delivery error: dd This user doesn't have a yahoo.com account": the mailbox does not exist.
  { reason: 'userunknown', test: (i) => /\bdd this user doesn't have an? [\w.-]{1,60} account\b/.test(i.text) },
];

/**
 * PowerMTA's bounce categories (its User's Guide, "Bounce categories"; the DSN field
 * X-PowerMTA-BounceCategory): its own reading of the remote reply, by its configured patterns.
 * `other` says nothing and is left out.
 */
const POWERMTA_CATEGORIES: Readonly<Record<string, BounceReason>> = {
  'bad-mailbox': 'userunknown', // "bad, invalid, or non-existent recipient addresses"
  'bad-domain': 'hostunknown', // "invalid or non-existing domains"
  'inactive-mailbox': 'suspend', // "expired, inactive, or disabled recipient addresses"
  'quota-issues': 'mailboxfull',
  'spam-related': 'spamdetected',
  'virus-related': 'virusdetected',
  'content-related': 'contenterror',
  'policy-related': 'policyviolation',
  'relaying-issues': 'norelaying',
  'message-expired': 'expired',
  'no-answer-from-host': 'networkerror',
  'bad-connection': 'networkerror',
  'routing-errors': 'systemerror', // "mail routing issues for recipient domain"
  'bad-configuration': 'systemerror', // "configuration issues with remote host"
  'protocol-errors': 'syntaxerror', // "SMTP protocol syntax or sequence errors"
  'invalid-sender': 'rejected', // "invalid DNS or MX entry for sending domain"
};

/** The reason a sending MTA's own category names, or null. */
function reasonOfMtaCategory(category: string | undefined): BounceReason | null {
  if (!category?.startsWith('powermta:')) return null;
  return POWERMTA_CATEGORIES[category.slice('powermta:'.length)] ?? null;
}

/**
 * The reason a vendor's documented code settles, or null. `text` must be lower case. A mailbox
 * provider's code in the reply comes first: the sending MTA's category is its reading of that reply.
 */
export function reasonOfVendorCode(input: VendorInput): BounceReason | null {
  for (const rule of VENDOR_RULES) if (rule.test(input)) return rule.reason;
  return reasonOfMtaCategory(input.mtaCategory);
}
