import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { tickets } from '../../db/schema.js';
import { addTicketEvent, type TicketRow } from '../../db/tickets.js';
import type { AutomationVerdict } from '../../parsers/auto-generated.js';
import type { ParsedMessage } from '../../parsers/message.js';
import { verifyToken } from '../../parsers/tokens.js';
import { evaluateRules, redactSensitive } from '../../rules/evaluate.js';
import { planTicketUpdate } from '../../rules/plan.js';
import { templateValuesFor } from '../../rules/templates/render-reply.js';
import type { Mailbox, RuleSet } from '../../rules/schema.js';
import type { FoundField, Plan, Verdict } from '../../rules/verdict.js';
import { queueAutomaticMail, type AutomaticMailContext } from './automatic-mail.js';
import { changeStatus, updateTags } from './ticket-status.js';

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
  const { verdict, plan } = evaluation;
  await tx
    .update(tickets)
    .set({
      fields: verdict.fields,
      missingFields: verdict.missing.map((m) => m.id),
      ...(isNew ? { category: verdict.category?.id ?? ticket.category, slaDueAt: verdict.slaDueAt } : {}),
      updatedAt: new Date(),
    })
    .where(eq(tickets.id, ticket.id));
  if (isNew && verdict.category) ticket.category = verdict.category.id;
  const found = Object.entries(verdict.found);
  if (found.length > 0) {
    await addTicketEvent(tx, ticket.id, 'fields.found', { fields: Object.fromEntries(found.map(([id, f]) => [id, f.value])) }, articleId);
  }
  for (const event of plan.events) await addTicketEvent(tx, ticket.id, event.type, event.data, articleId);
  await updateTags(tx, ticket, plan.addTags, plan.removeTags);

  const inReplyTo = message.messageId;
  const references = [...message.references, ...(message.messageId ? [message.messageId] : [])];
  const cause = { automation, inReplyTo, references };
  const deliveryIds: number[] = [];
  if (plan.status) {
    const reason = verdict.missing.length > 0 ? 'awaiting_details' : plan.removeTags.includes('awaiting_details') ? 'details_complete' : 'customer_reply';
    deliveryIds.push(...(await changeStatus(tx, ctx, ticket, mailbox, plan.status, reason, cause)));
  }

  // Reply-To, then From, then the envelope sender (RFC 3834 §4 prefers the latter for automatic replies).
  const recipient = (message.replyTo[0]?.address ?? message.from?.address ?? (envelopeFrom || null))?.toLowerCase() ?? null;
  const values = {
    ...templateValuesFor(verdict, {
      ticket_number: String(ticket.number),
      subject: message.subject,
      customer_name: message.from?.name || recipient || '',
      customer_email: recipient ?? '',
      status: ticket.status,
    }),
    mailbox_name: mailbox.name,
    mailbox_address: mailbox.address,
  };
  const send = async (kind: 'acknowledgement' | 'missing_details' | 'acknowledgement_missing_details' | 'sensitive_warning') =>
    queueAutomaticMail(tx, ctx, { ticket, mailbox, kind, template: kind, recipient, automation, values, inReplyTo, references });
  if (plan.reply) {
    const id = await send(plan.reply);
    if (id !== null) {
      deliveryIds.push(id);
      if (plan.reply !== 'acknowledgement') {
        ticket.detailRequests += 1;
        await tx.update(tickets).set({ detailRequests: ticket.detailRequests }).where(eq(tickets.id, ticket.id));
      }
    }
  }
  if (plan.sensitiveWarning) {
    const id = await send('sensitive_warning');
    if (id !== null) deliveryIds.push(id);
  }
  return deliveryIds;
}
