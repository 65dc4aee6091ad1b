import { findArticleByInboundId } from '../../db/articles.js';
import type { Db } from '../../db/client.js';
import { wasDeliveredTo } from '../../db/deliveries.js';
import type { InboundRow } from '../../db/inbound.js';
import { addTicketEvent, type TicketRow } from '../../db/tickets.js';
import type { ParsedMessage } from '../../parsers/message.js';
import { parseOwnMessageId } from '../../parsers/tokens.js';
import { isAgent } from '../../rules/mailboxes.js';
import type { Mailbox } from '../../rules/schema.js';
import { createAgentReply } from '../tickets/agent-reply.js';
import type { AutomaticMailContext } from '../tickets/automatic-mail.js';

export type AgentMailOutcome =
  | { kind: 'not_agent' }
  | { kind: 'replied'; articleId: number; deliveryIds: number[] }
  | { kind: 'empty' };

/**
 * An agent's answer by mail to an alert about a ticket becomes the agent's reply to the customer.
 * The From address alone proves nothing (anyone can write it, the customer of the ticket too), so
 * the mail must answer a message mailroom sent to that very address about this ticket: its
 * signed Message-ID in In-Reply-To or References is known only to whoever received it. Mail from
 * an agent's address without that proof is filed like any other mail, with an event saying so.
 */
export async function fileAgentMail(
  tx: Db,
  ctx: AutomaticMailContext,
  row: InboundRow,
  message: ParsedMessage,
  sender: string,
  ticket: TicketRow,
  mailbox: Mailbox,
): Promise<AgentMailOutcome> {
  if (!isAgent(ctx.ruleSet, mailbox, sender)) return { kind: 'not_agent' };
  if (!(await answersMailSentTo(tx, ctx.secret, message, sender, ticket))) {
    await addTicketEvent(tx, ticket.id, 'agent_mail.unverified', { from: sender, reason: 'answers no mail sent to this address about this ticket' });
    return { kind: 'not_agent' };
  }
  const body = message.visibleText.trim();
  if (!body) {
    await addTicketEvent(tx, ticket.id, 'agent_mail.empty', { from: sender, inboundId: row.id });
    return { kind: 'empty' };
  }
  // The reply goes to the requester alone: the addresses on an alert thread are internal ones.
  const result = await createAgentReply(tx, ctx, ticket.number, {
    body,
    cc: [],
    byMail: { from: sender, inboundId: row.id, attachmentsLeftOut: message.attachments.length },
  });
  const article = (await findArticleByInboundId(tx, row.id))!;
  return { kind: 'replied', articleId: article.id, deliveryIds: result.deliveryIds };
}

async function answersMailSentTo(tx: Db, secret: string, message: ParsedMessage, address: string, ticket: TicketRow): Promise<boolean> {
  for (const id of new Set([...message.inReplyTo, ...message.references])) {
    const own = parseOwnMessageId(secret, id);
    if (own && own.ticketNumber === ticket.number && (await wasDeliveredTo(tx, own.deliveryId, ticket.id, address))) return true;
  }
  return false;
}
