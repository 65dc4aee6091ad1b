import type { RuleSet, Mailbox, Template } from '../schema.js';
import type { ReplyKind, Verdict } from '../verdict.js';
import { responseTimeText } from '../evaluate.js';
import { localize } from '../localize.js';
import { renderTemplate, type TemplateValues } from './template.js';

export type ReplyValues = TemplateValues & { ticket_number: string };

/** Characters never allowed in a header; the rendered subject is already clean of them. */
const HEADER_UNSAFE = /[\u0000-\u001f\u007f\u2028\u2029]+/g;
/** A customer's subject is quoted in ours; past this it is noise and a header-length risk. */
const MAX_QUOTED_SUBJECT_CHARS = 200;

/**
 * Renders a reply or notification in the mailbox's language; null when the rule set has no
 * templates for that language or no such notification. The subject always carries the ticket
 * token `[#N]` (threading relies on it when a client drops In-Reply-To), so it is prefixed when
 * the admin's subject template leaves it out. `mailbox_name` and `mailbox_address` default to
 * the mailbox's own.
 */
/** How much of what a sender wrote an automatic mail repeats: a forged mail cannot make us carry its text. */
export const ECHO_LIMITS = { subject: 150, customer_name: 64, customer_email: 254 } as const;

function echoed(values: ReplyValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, max] of Object.entries(ECHO_LIMITS) as Array<[keyof typeof ECHO_LIMITS, number]>) {
    const text = values[name];
    if (typeof text === 'string' && [...text].length > max) out[name] = `${[...text].slice(0, max - 1).join('')}…`;
  }
  return out;
}

export function renderReply(
  kind: ReplyKind | { notification: string },
  ruleSet: RuleSet,
  mailbox: Mailbox,
  values: ReplyValues,
): { subject: string; body: string } | null {
  const templates = Object.hasOwn(ruleSet.templates, mailbox.language) ? ruleSet.templates[mailbox.language] : undefined;
  if (!templates) return null;
  let template: Template | undefined;
  if (typeof kind === 'string') template = templates[kind];
  // An own-property check: a notification named "constructor" must not find Object.prototype's.
  else if (Object.hasOwn(templates.notifications, kind.notification)) template = templates.notifications[kind.notification];
  if (!template) return null;
  const all: TemplateValues = { mailbox_name: mailbox.name, mailbox_address: mailbox.address, ...values, ...echoed(values) };
  const rendered = renderTemplate(template.subject, all, 'header');
  const token = `[#${values.ticket_number.replace(HEADER_UNSAFE, '')}]`;
  const subject = rendered.includes(token) ? rendered : `${token} ${rendered}`.trim();
  let body = renderTemplate(template.body, all, 'body');
  // A warning that is due travels in this mail; a template that does not place it gets it at the end.
  if (values.sensitive_notice && !/\{\{\s*[#^]?\s*sensitive_notice\s*\}\}/.test(template.body)) {
    body = `${body.trimEnd()}\n\n${values.sensitive_notice.trim()}\n`;
  }
  return { subject, body };
}

/**
 * The warning about sensitive data for the mail that answers the message: the language's
 * `sensitive_notice`, else the body of its `sensitive_warning`; empty when there is nothing to warn about.
 */
export function sensitiveNotice(ruleSet: RuleSet, mailbox: Mailbox, values: ReplyValues): string {
  if (!values.sensitive || values.sensitive.length === 0) return '';
  const templates = Object.hasOwn(ruleSet.templates, mailbox.language) ? ruleSet.templates[mailbox.language] : undefined;
  if (!templates) return '';
  const all: TemplateValues = { mailbox_name: mailbox.name, mailbox_address: mailbox.address, ...values, ...echoed(values) };
  return renderTemplate(templates.sensitive_notice ?? templates.sensitive_warning.body, all, 'body').trim();
}

/** Facts about the ticket and the customer that a verdict does not carry. */
export interface ReplyBase {
  ticket_number: string;
  /** The customer's subject, as received. */
  subject: string;
  customer_name?: string;
  customer_email?: string;
  status?: string;
}

/**
 * The template values for a reply to the mail a verdict was made for. Ticket tokens are taken
 * out of the customer's subject (a reply's "Re: … [#12]" would otherwise show the token twice
 * next to our own) and the subject is clipped.
 */
export function templateValuesFor(verdict: Verdict, base: ReplyBase): ReplyValues {
  const subject = base.subject.replace(/\s*\[#\d{1,12}\]\s*/g, ' ').trim().slice(0, MAX_QUOTED_SUBJECT_CHARS);
  return {
    ticket_number: base.ticket_number,
    subject,
    missing: verdict.missing.map((item) => ({ label: item.label, hint: item.hint })),
    sensitive: verdict.sensitive.map((finding) => ({ label: finding.label })),
    ...(verdict.responseTime !== null && { response_time: verdict.responseTime }),
    ...(verdict.category !== null && { category: verdict.category.label }),
    ...(base.customer_name !== undefined && { customer_name: base.customer_name }),
    ...(base.customer_email !== undefined && { customer_email: base.customer_email }),
    ...(base.status !== undefined && { status: base.status }),
  };
}

/** What a ticket knows when a mail about it is not an answer to a customer's message. */
export interface TicketFactsForMail {
  number: number;
  subject: string;
  status: string;
  category: string | null;
  missingFields: readonly string[];
}

/**
 * The template values of a mail about a ticket rather than about one message (status
 * notifications, alerts): the same names as a reply's, from the ticket and its requester, so a
 * "Hola, {{customer_name}}:" greets the customer in every kind of mail.
 */
export function ticketTemplateValues(ruleSet: RuleSet, mailbox: Mailbox, ticket: TicketFactsForMail, customer: { name: string; address: string } | null): ReplyValues {
  const language = mailbox.language;
  const category = ticket.category === null ? undefined : ruleSet.categories.find((c) => c.id === ticket.category);
  const fieldsById = new Map(ruleSet.fields.map((field) => [field.id, field]));
  const responseTime = category ? responseTimeText(category, ruleSet, language) : null;
  return {
    ticket_number: String(ticket.number),
    subject: ticket.subject.replace(/\s*\[#\d{1,12}\]\s*/g, ' ').trim().slice(0, MAX_QUOTED_SUBJECT_CHARS),
    status: ticket.status,
    customer_name: customer ? customer.name || customer.address : '',
    customer_email: customer?.address ?? '',
    mailbox_name: mailbox.name,
    mailbox_address: mailbox.address,
    missing: ticket.missingFields.map((id) => {
      const field = fieldsById.get(id);
      return { label: field ? localize(field.label, language) : id, hint: field ? localize(field.hint, language) : '' };
    }),
    sensitive: [],
    ...(category && { category: localize(category.label, language) }),
    ...(responseTime !== null && { response_time: responseTime }),
  };
}
