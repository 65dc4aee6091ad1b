import type { Db } from '../../db/client.js';
import { addTicketEvent, addTicketEvents, saveTicketEvaluation, setDetailRequests, type TicketRow } from '../../db/tickets.js';
import type { AutomationVerdict } from '../../parsers/auto-generated.js';
import type { ParsedMessage } from '../../parsers/message.js';
import { verifyToken } from '../../parsers/tokens.js';
import { decide, type Decision, type MessageFacts, type PlannedMail, type TicketBefore } from '../../rules/decide.js';
import { redactionSteps, type Redaction } from '../../rules/redact.js';
import { planWithoutRequest } from '../../rules/plan.js';
import type { Mailbox, RuleSet } from '../../rules/schema.js';
import { queueAutomaticMail, type AutomaticMailContext } from '../tickets/automatic-mail.js';
import { changeStatus, enterStatus, updateTags, type TicketChange } from '../tickets/ticket-status.js';

export interface Evaluation {
  decision: Decision;
  /** The message as it may be stored: sensitive text redacted, sensitive attachments left out. */
  storable: ParsedMessage;
}

/**
 * What the rules see of a parsed message. Reply tokens are threading keys, not tags; the answer
 * goes to Reply-To, then From, then the envelope sender (RFC 3834 §4 prefers the latter for
 * automatic replies).
 */
export function messageFacts(message: ParsedMessage, mailbox: Mailbox, details: string[], secret: string, envelopeFrom: string, redacted?: RedactedMessage): MessageFacts {
  return {
    ...(redacted && { sensitiveFound: redacted.found }),
    // Already redacted when the caller has done it: the detectors then have nothing left to redact.
    subject: redacted?.subject ?? message.subject,
    visibleText: redacted?.visibleText ?? message.visibleText,
    fromAddress: (message.from?.address ?? '').toLowerCase(),
    fromName: message.from?.name ?? '',
    answerAddress: (message.replyTo[0]?.address ?? message.from?.address ?? (envelopeFrom || null))?.toLowerCase() ?? null,
    mailbox: mailbox.address,
    tags: details.filter((detail) => verifyToken(secret, 't', detail) === null).map((d) => d.toLowerCase()),
    attachments: message.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.size })),
  };
}

/** The parts of a message that are stored, with every sensitive match redacted. */
export interface RedactedMessage {
  subject: string;
  visibleText: string;
  text: string;
  html: string | null;
  /** Sensitive entries found in the subject or the visible text. */
  found: Set<string>;
}

/**
 * Redacts the whole of what will be stored, `pause` between slices of work: a 20 MB text of
 * matches takes seconds of regex work, which must not hold up every SMTP session meanwhile.
 * Quoted history is redacted too: it can hold a password as well.
 */
export async function redactMessage(message: ParsedMessage, ruleSet: RuleSet, pause: () => Promise<void>): Promise<RedactedMessage> {
  const run = async (text: string): Promise<Redaction> => {
    const steps = redactionSteps(text, ruleSet);
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
      await pause();
    }
  };
  const subject = await run(message.subject);
  const visible = await run(message.visibleText);
  // Plain-text mail often has the same text twice: redact it once.
  const text = message.text === message.visibleText ? visible : await run(message.text);
  const html = message.html === null ? null : await run(message.html);
  return { subject: subject.text, visibleText: visible.text, text: text.text, html: html?.text ?? null, found: new Set([...subject.found, ...visible.found]) };
}

/** Decides what to do with a customer mail (pure, the same function as `rules test`) and what of it may be stored. */
export function evaluateMessage(ruleSet: RuleSet, mailbox: Mailbox, ticket: TicketBefore, message: ParsedMessage, facts: MessageFacts, redacted: RedactedMessage, now: Date): Evaluation {
  const decision = decide(ruleSet, mailbox, ticket, facts, now);
  const sensitiveAttachments = new Set(decision.verdict.sensitive.flatMap((s) => s.attachmentIndexes));
  const storable: ParsedMessage = {
    ...message,
    subject: redacted.subject,
    visibleText: redacted.visibleText,
    text: redacted.text,
    html: redacted.html,
    attachments: message.attachments.filter((_, i) => !sensitiveAttachments.has(i)),
  };
  return { decision, storable };
}

/**
 * Applies a decision inside the processing transaction: ticket fields, category, SLA, the mail
 * that answers the message, then events, tags and status (with its on-enter actions). Returns
 * the ticket as it now is and the delivery ids to enqueue after commit.
 */
export async function applyEvaluation(
  tx: Db,
  ctx: AutomaticMailContext,
  ticket: TicketRow,
  mailbox: Mailbox,
  isNew: boolean,
  message: ParsedMessage,
  automation: AutomationVerdict,
  evaluation: Evaluation,
  articleId: number,
): Promise<TicketChange> {
  const { verdict, reply, warningAlone } = evaluation.decision;
  let plan = evaluation.decision.plan;
  const inReplyTo = message.messageId;
  const references = [...message.references, ...(message.messageId ? [message.messageId] : [])];
  const cause = { automation, inReplyTo, references };
  const deliveryIds: number[] = [];
  const evaluated = {
    fields: verdict.fields,
    missingFields: verdict.missing.map((m) => m.id),
    ...(isNew ? { category: verdict.category?.id ?? ticket.category, slaDueAt: verdict.slaDueAt } : {}),
  };
  const found = Object.entries(verdict.found);
  // Independent writes, sent together: one round trip.
  await Promise.all([
    saveTicketEvaluation(tx, ticket.id, evaluated),
    found.length > 0 ? addTicketEvent(tx, ticket.id, 'fields.found', { fields: Object.fromEntries(found.map(([id, f]) => [id, f.value])) }, articleId) : null,
  ]);
  let current: TicketRow = { ...ticket, ...evaluated };
  const stateBefore = { isNew, status: ticket.status, tags: ticket.tags, detailRequests: ticket.detailRequests };
  const applied = (change: TicketChange) => {
    current = change.ticket;
    deliveryIds.push(...change.deliveryIds);
  };
  // Creation is entering the first status: its on-enter actions run like any other's.
  if (isNew) applied(await enterStatus(tx, ctx, current, mailbox, cause));

  // The mail first: whether a request for details went out decides whether the ticket waits on the customer.
  const send = (mail: PlannedMail) =>
    queueAutomaticMail(tx, ctx, { ticket: current, mailbox, kind: mail.kind, template: mail.kind, recipient: mail.to, cc: mail.cc, automation, values: mail.values, inReplyTo, references });
  let replied = false;
  if (reply) {
    const queued = await send(reply);
    const asksForDetails = reply.kind !== 'acknowledgement';
    if (queued.deliveryId !== null) {
      deliveryIds.push(queued.deliveryId);
      replied = true;
      if (asksForDetails) {
        current = { ...current, detailRequests: current.detailRequests + 1 };
        await setDetailRequests(tx, ticket.id, current.detailRequests);
      }
    } else if (asksForDetails) {
      plan = planWithoutRequest(plan, stateBefore, ctx.ruleSet, queued.withheld);
    }
  }
  // One mail answers the message: the warning went inside the reply, or it travels alone.
  if (warningAlone && !replied) {
    const queued = await send(warningAlone);
    if (queued.deliveryId !== null) deliveryIds.push(queued.deliveryId);
  }

  await addTicketEvents(tx, ticket.id, plan.events, articleId);
  current = await updateTags(tx, current, plan.addTags, plan.removeTags);
  if (plan.status) {
    const complete = plan.events.some((event) => event.type === 'details.complete');
    const reason = verdict.missing.length === 0 ? (complete ? 'details_complete' : 'customer_reply') : plan.status === 'pending' ? 'awaiting_details' : 'details_incomplete';
    applied(await changeStatus(tx, ctx, current, mailbox, plan.status, reason, cause));
  }
  return { ticket: current, deliveryIds };
}
