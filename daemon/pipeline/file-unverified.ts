import type { AttachmentContentSource } from '../../db/articles.js';
import type { Db } from '../../db/client.js';
import type { InboundRow } from '../../db/inbound.js';
import { addParticipants, addTicketEvent, type TicketRow } from '../../db/tickets.js';
import type { ParsedMessage } from '../../parsers/message.js';
import type { Mailbox } from '../../rules/schema.js';
import type { SenderAuth, SenderVerdict } from '../../rules/sender-policy.js';
import { updateTags } from '../tickets/ticket-status.js';
import { openTicket } from './open-ticket.js';
import { addArticle } from './store-article.js';
import type { ThreadMatch } from './thread.js';

export const UNVERIFIED_TAG = 'unverified_sender';

/**
 * Mail whose From cannot be believed. Anyone can write any From, so it must not speak for the
 * person it names: it lands on a ticket of its own (linked to the one it claims to answer),
 * tagged for the agents, with its sender as the only participant; no rule runs on it, so it
 * changes no fields and draws no automatic mail to whoever it names.
 */
export async function fileUnverified(
  tx: Db,
  row: InboundRow,
  storable: ParsedMessage,
  mailbox: Mailbox,
  senderId: number,
  senderAddress: string,
  match: ThreadMatch | null,
  auth: SenderAuth,
  verdict: Extract<SenderVerdict, { verified: false }>,
  attachmentContents: AttachmentContentSource | undefined,
): Promise<{ ticket: TicketRow; articleId: number }> {
  const opened = await openTicket(tx, {
    subject: storable.subject,
    mailbox: mailbox.address,
    requesterId: senderId,
    category: match?.ticket.category ?? mailbox.default_category ?? null,
    inboundId: row.id,
    ...(match && { linkedTo: { ticket: match.ticket, relation: 'unverified_sender' as const, from: senderAddress } }),
  });
  await addParticipants(tx, opened.id, [{ contactId: senderId, role: 'requester' }]);
  const ticket = await updateTags(tx, opened, [UNVERIFIED_TAG], []);
  const articleId = await addArticle(tx, ticket, row, storable, senderAddress, 'new', null, attachmentContents, auth);
  await addTicketEvent(tx, ticket.id, 'sender.unverified', { reason: verdict.reason, from: senderAddress, spf: auth.spf.result, dmarc: auth.dmarc.result, dkim: auth.dkim.map((d) => `${d.domain ?? '?'}=${d.result}`) }, articleId);
  return { ticket, articleId };
}
