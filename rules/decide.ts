import { evaluateRules } from './evaluate.js';
import { planTicketUpdate } from './plan.js';
import type { Mailbox, RuleSet, TicketStatusName } from './schema.js';
import { sensitiveNotice, templateValuesFor, type ReplyValues } from './templates/render-reply.js';
import type { FoundField, Plan, ReplyKind, RuleMessage, Verdict } from './verdict.js';

/** The ticket as it was before the message. */
export interface TicketBefore {
  number: number;
  isNew: boolean;
  status: TicketStatusName;
  tags: string[];
  detailRequests: number;
  category: string | null;
  fields: Record<string, FoundField>;
  /** Null for a new ticket: its requester is the one writing. */
  requester: { name: string; address: string } | null;
}

/** The message as the decision needs it, beyond what the detectors read. */
export interface MessageFacts extends RuleMessage {
  /** Display name in From, or ''. */
  fromName: string;
  /** Where an answer to this message goes: Reply-To, then From, then the envelope sender. */
  answerAddress: string | null;
}

/** One automatic mail to send, before loop safety and rate limits. */
export interface PlannedMail {
  kind: ReplyKind;
  to: string | null;
  cc: string[];
  values: ReplyValues;
}

export interface Decision {
  verdict: Verdict;
  plan: Plan;
  /** The one mail that answers the message (the warning about sensitive data inside it), or null. */
  reply: PlannedMail | null;
  /** The warning about sensitive data on its own: sent only when no reply goes out. */
  warningAlone: PlannedMail | null;
}

/**
 * What the daemon does with one customer mail on a ticket, before anything is stored or sent:
 * fields found and missing, the status and tags that follow, and the mail that answers it. One
 * function for the daemon and for `rules test`, so the two cannot drift apart. Pure.
 */
export function decide(ruleSet: RuleSet, mailbox: Mailbox, ticket: TicketBefore, message: MessageFacts, now: Date): Decision {
  const verdict = evaluateRules(message, { isNew: ticket.isNew, category: ticket.isNew ? null : ticket.category, fields: ticket.fields }, ruleSet, mailbox, now);
  const plan = planTicketUpdate(verdict, { isNew: ticket.isNew, status: ticket.status, tags: ticket.tags, detailRequests: ticket.detailRequests }, ruleSet, mailbox);
  // On a ticket that exists the answer goes to its requester, whoever wrote this mail: a
  // colleague in CC who replies is copied, not made the one asked for the details.
  const to = ticket.requester?.address ?? message.answerAddress;
  const cc = message.answerAddress && message.answerAddress !== to ? [message.answerAddress] : [];
  const values: ReplyValues = {
    ...templateValuesFor(verdict, {
      ticket_number: String(ticket.number),
      subject: message.subject,
      customer_name: ticket.requester ? ticket.requester.name || ticket.requester.address : message.fromName || to || '',
      customer_email: to ?? '',
      status: ticket.status,
    }),
    mailbox_name: mailbox.name,
    mailbox_address: mailbox.address,
  };
  const notice = plan.sensitiveWarning ? sensitiveNotice(ruleSet, mailbox, values) : '';
  return {
    verdict,
    plan,
    reply: plan.reply ? { kind: plan.reply, to, cc, values: notice ? { ...values, sensitive_notice: notice } : values } : null,
    warningAlone: plan.sensitiveWarning ? { kind: 'sensitive_warning', to, cc, values } : null,
  };
}
