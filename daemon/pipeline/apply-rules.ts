import type { Db } from '../../db/client.js';
import { addTicketEvent, findRequester, saveTicketEvaluation, setDetailRequests, type TicketRow } from '../../db/tickets.js';
import type { AutomationVerdict } from '../../parsers/auto-generated.js';
import type { ParsedMessage } from '../../parsers/message.js';
import { verifyToken } from '../../parsers/tokens.js';
import { evaluateRules, redactSensitive } from '../../rules/evaluate.js';
import { planTicketUpdate, planWithoutRequest } from '../../rules/plan.js';
import { sensitiveNotice, templateValuesFor } from '../../rules/templates/render-reply.js';
import type { Mailbox, RuleSet } from '../../rules/schema.js';
import type { FoundField, Plan, Verdict } from '../../rules/verdict.js';
import { queueAutomaticMail, type AutomaticMailContext } from '../tickets/automatic-mail.js';
import { changeStatus, enterStatus, updateTags } from '../tickets/ticket-status.js';

export interface Evaluation {
  verdict: Verdict;
  plan: Plan;
  /** The message as it may be stored: sensitive text redacted, sensitive attachments left out. */
  storable: ParsedMessage;
}

/** Checks a customer mail against the rules (pure): what is found, missing, and what to do. */
export function evaluateMessage(
  ruleSet: RuleSet,
  mailbox: Mailbox,
  ticket: TicketRow,
  isNew: boolean,
  message: ParsedMessage,
  details: string[],
  secret: string,
  now: Date,
): Evaluation {
  const verdict = evaluateRules(
    {
      subject: message.subject,
      visibleText: message.visibleText,
      fromAddress: (message.from?.address ?? '').toLowerCase(),
      mailbox: mailbox.address,
      // Reply tokens are threading keys, not tags.
      tags: details.filter((detail) => verifyToken(secret, 't', detail) === null).map((d) => d.toLowerCase()),
      attachments: message.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.size })),
    },
    { isNew, category: isNew ? null : ticket.category, fields: (ticket.fields ?? {}) as Record<string, FoundField> },
    ruleSet,
    mailbox,
    now,
  );
  const plan = planTicketUpdate(verdict, { isNew, status: ticket.status, tags: ticket.tags, detailRequests: ticket.detailRequests }, ruleSet, mailbox);
  const sensitiveAttachments = new Set(verdict.sensitive.flatMap((s) => s.attachmentIndexes));
  // Redact everything stored, not only the visible part: quoted history can hold a password too.
  const storable: ParsedMessage = {
    ...message,
    subject: redactSensitive(message.subject, ruleSet),
    visibleText: verdict.redactedVisibleText,
    text: redactSensitive(message.text, ruleSet),
    html: message.html === null ? null : redactSensitive(message.html, ruleSet),
    attachments: message.attachments.filter((_, i) => !sensitiveAttachments.has(i)),
  };
  return { verdict, plan, storable };
}

/**
 * Applies an evaluation inside the processing transaction: ticket fields, category, SLA, tags,
 * status (with its on-enter actions), events, and the automatic mails. Returns delivery ids.
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
  /** The envelope sender (MAIL FROM): where to answer a mail with neither Reply-To nor From. */
  envelopeFrom: string,
): Promise<number[]> {
  const { verdict } = evaluation;
  let plan = evaluation.plan;
  const inReplyTo = message.messageId;
  const references = [...message.references, ...(message.messageId ? [message.messageId] : [])];
  const cause = { automation, inReplyTo, references };
  const deliveryIds: number[] = [];
  await saveTicketEvaluation(tx, ticket.id, {
    fields: verdict.fields,
    missingFields: verdict.missing.map((m) => m.id),
    ...(isNew ? { category: verdict.category?.id ?? ticket.category, slaDueAt: verdict.slaDueAt } : {}),
  });
  if (isNew && verdict.category) ticket.category = verdict.category.id;
  ticket.missingFields = verdict.missing.map((m) => m.id);
  const found = Object.entries(verdict.found);
  if (found.length > 0) {
    await addTicketEvent(tx, ticket.id, 'fields.found', { fields: Object.fromEntries(found.map(([id, f]) => [id, f.value])) }, articleId);
  }
  const stateBefore = { isNew, status: ticket.status, tags: ticket.tags, detailRequests: ticket.detailRequests };
  if (isNew) {
    // Creation is entering the first status: its on-enter actions run like any other's.
    deliveryIds.push(...(await enterStatus(tx, ctx, ticket, mailbox, ticket.status, cause)));
  }

  // The mail first: whether a request for details went out decides whether the ticket waits on the customer.
  // Reply-To, then From, then the envelope sender (RFC 3834 §4 prefers the latter for automatic replies).
  const writer = (message.replyTo[0]?.address ?? message.from?.address ?? (envelopeFrom || null))?.toLowerCase() ?? null;
  // On a ticket that exists the answer goes to its requester, whoever wrote this mail: a colleague
  // in CC who replies is copied, not made the one asked for the details.
  const requester = isNew ? null : await findRequester(tx, ticket);
  const recipient = requester?.address ?? writer;
  const cc = writer && writer !== recipient ? [writer] : [];
  const values = {
    ...templateValuesFor(verdict, {
      ticket_number: String(ticket.number),
      subject: message.subject,
      customer_name: requester ? requester.name || requester.address : message.from?.name || recipient || '',
      customer_email: recipient ?? '',
      status: ticket.status,
    }),
    mailbox_name: mailbox.name,
    mailbox_address: mailbox.address,
  };
  const send = async (kind: 'acknowledgement' | 'missing_details' | 'acknowledgement_missing_details' | 'sensitive_warning', extra: Partial<typeof values> = {}) =>
    queueAutomaticMail(tx, ctx, { ticket, mailbox, kind, template: kind, recipient, cc, automation, values: { ...values, ...extra }, inReplyTo, references });
  // One mail answers the message: a warning about sensitive data goes inside the reply, and
  // travels alone only when no reply goes out.
  let warned = false;
  if (plan.reply) {
    const notice = plan.sensitiveWarning ? sensitiveNotice(ctx.ruleSet, mailbox, values) : '';
    const queued = await send(plan.reply, notice ? { sensitive_notice: notice } : {});
    const asksForDetails = plan.reply !== 'acknowledgement';
    if (queued.deliveryId !== null) {
      deliveryIds.push(queued.deliveryId);
      warned = notice !== '';
      if (asksForDetails) {
        ticket.detailRequests += 1;
        await setDetailRequests(tx, ticket.id, ticket.detailRequests);
      }
    } else if (asksForDetails) {
      plan = planWithoutRequest(plan, stateBefore, ctx.ruleSet, queued.withheld);
    }
  }
  if (plan.sensitiveWarning && !warned) {
    const queued = await send('sensitive_warning');
    if (queued.deliveryId !== null) deliveryIds.push(queued.deliveryId);
  }

  for (const event of plan.events) await addTicketEvent(tx, ticket.id, event.type, event.data, articleId);
  await updateTags(tx, ticket, plan.addTags, plan.removeTags);
  if (plan.status) {
    const complete = plan.events.some((event) => event.type === 'details.complete');
    const reason = verdict.missing.length === 0 ? (complete ? 'details_complete' : 'customer_reply') : plan.status === 'pending' ? 'awaiting_details' : 'details_incomplete';
    deliveryIds.push(...(await changeStatus(tx, ctx, ticket, mailbox, plan.status, reason, cause)));
  }
  return deliveryIds;
}
