import { classifyAutomation, LOOP_HEADER, type AutomationVerdict } from '../../parsers/auto-generated.js';
import type { ParsedMessage } from '../../parsers/message.js';
import { resolveRecipient, type RecipientMatch } from '../../rules/mailboxes.js';
import type { Mailbox, RuleSet } from '../../rules/schema.js';

export interface Classification {
  /** The support mailbox the message was sent to; null when it only went to a bounce address. */
  mailbox: Mailbox | null;
  /** `+detail` of each mailbox recipient (reply tokens, tags). */
  details: string[];
  bounceTokens: string[];
  automation: AutomationVerdict;
}

/** Which of our addresses a message reached, and whether a person wrote it. */
export function classifyMessage(
  ruleSet: RuleSet,
  envelope: { mailFrom: string; rcptTo: string[] },
  message: ParsedMessage,
): Classification {
  const matches = envelope.rcptTo
    .map((rcpt) => resolveRecipient(ruleSet, rcpt))
    .filter((match): match is RecipientMatch => match !== null);
  const mailboxMatches = matches.filter((match) => match.kind === 'mailbox');
  const ownAddresses = new Set(ruleSet.mailboxes.map((mailbox) => mailbox.address));
  return {
    mailbox: mailboxMatches[0]?.mailbox ?? null,
    details: mailboxMatches.flatMap((match) => (match.detail ? [match.detail] : [])),
    bounceTokens: matches.flatMap((match) => (match.kind === 'bounce' ? [match.token] : [])),
    automation: classifyAutomation({
      envelopeFrom: envelope.mailFrom,
      fromAddress: message.from?.address ?? null,
      headers: message.headers,
      contentType: message.contentType,
      ownAddresses,
      loopHeader: LOOP_HEADER,
    }),
  };
}
