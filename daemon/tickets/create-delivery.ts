import { createHash } from 'node:crypto';
import type { Db } from '../../db/client.js';
import { insertArticle } from '../../db/articles.js';
import { allocateDeliveryIds, insertDeliveryRow, insertRecipients } from '../../db/deliveries.js';
import type { DeliveryKind } from '../../db/schema.js';
import { addTicketEvent, type TicketRow } from '../../db/tickets.js';
import { splitAddress } from '../../parsers/addresses.js';
import { formatOwnMessageId, signToken } from '../../parsers/tokens.js';
import type { Mailbox } from '../../rules/schema.js';

export interface NewOutboundMail {
  ticket: TicketRow;
  mailbox: Mailbox;
  kind: DeliveryKind;
  to: string[];
  cc?: string[];
  subject: string;
  body: string;
  /** The customer message this answers (threads in the customer's client). */
  inReplyTo: string | null;
  references: string[];
  /** The spool row of the mail this one was written in: an agent's reply by mail. */
  inboundId?: number;
  /** The delivery's and its article's ids, when the caller drew them with another statement. */
  ids?: { deliveryId: number; articleId: number };
}

/** The address replies come back to: the mailbox plus the ticket's signed token. */
export function replyAddress(secret: string, mailbox: string, ticketNumber: number): string {
  const split = splitAddress(mailbox)!;
  return `${split.local}+${signToken(secret, 't', ticketNumber)}@${split.domain}`;
}

/**
 * Puts a mail in the outbox inside the caller's transaction: a delivery row per mail, a row per
 * recipient, and an outbound article so the agent sees what was sent. Returns the delivery id to
 * enqueue once the transaction has committed. Both ids are drawn first, so the rows go in three
 * round trips, each statement sent beside the ones it does not depend on.
 */
export async function createDelivery(tx: Db, secret: string, mail: NewOutboundMail): Promise<number> {
  const { deliveryId: id, articleId } = mail.ids ?? (await allocateDeliveryIds(tx));
  const domain = splitAddress(mail.mailbox.address)!.domain;
  const messageId = formatOwnMessageId(secret, mail.ticket.number, id, domain);
  const references = [...mail.references.filter((r) => r !== mail.inReplyTo), ...(mail.inReplyTo ? [mail.inReplyTo] : [])].slice(-20);
  const replyTo = replyAddress(secret, mail.mailbox.address, mail.ticket.number);
  await Promise.all([
    insertDeliveryRow(tx, id, {
      ticketId: mail.ticket.id,
      kind: mail.kind,
      mailbox: mail.mailbox.address,
      messageId,
      fromName: mail.mailbox.name,
      replyTo,
      subject: mail.subject,
      textBody: mail.body,
      inReplyTo: mail.inReplyTo,
      references,
    }),
    insertArticle(tx, {
      id: articleId,
      ticketId: mail.ticket.id,
      inboundId: mail.inboundId ?? null,
      direction: 'outbound',
      messageId,
      inReplyTo: mail.inReplyTo ? [mail.inReplyTo] : [],
      references,
      fromAddress: mail.mailbox.address,
      fromName: mail.mailbox.name,
      toAddresses: mail.to.map((address) => ({ address, name: '' })),
      ccAddresses: (mail.cc ?? []).map((address) => ({ address, name: '' })),
      subject: mail.subject,
      textBody: mail.body,
      visibleText: mail.body,
      bodyHash: createHash('sha256').update(mail.body).digest('hex'),
    }),
  ]);
  await Promise.all([
    insertRecipients(tx, id, mail.to, mail.cc ?? []),
    addTicketEvent(tx, mail.ticket.id, 'mail.queued', { kind: mail.kind, deliveryId: id, to: mail.to, cc: mail.cc ?? [] }, articleId),
  ]);
  return id;
}
