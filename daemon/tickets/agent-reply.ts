import { lastCustomerThread } from '../../db/articles.js';
import type { Db } from '../../db/client.js';
import type { TicketStatus } from '../../db/schema.js';
import { getDelivery } from '../../db/deliveries.js';
import { addParticipants, addTicketEvent, findRequester, findTicketByNumber, lockTicket, upsertContact } from '../../db/tickets.js';
import { findSubjectTicketNumber, formatSubjectToken } from '../../parsers/threading.js';
import { findMailbox } from '../../rules/mailboxes.js';
import type { RuleSet } from '../../rules/schema.js';
import { AppError } from '../errors.js';
import { NO_AUTOMATION, type AutomaticMailContext } from './automatic-mail.js';
import { changeStatus } from './ticket-status.js';
import { createDelivery } from './create-delivery.js';

export interface AgentReplyInput {
  body: string;
  cc: string[];
  /** Status after the reply; default: the rules' `status.on_agent_reply`. */
  status?: TicketStatus;
  /** Who wrote it, when known (an API token's name): kept in the events. */
  by?: string;
  /** Set when the agent wrote the reply by mail: who, and the spool row it arrived in. */
  byMail?: { from: string; inboundId: number; attachmentsLeftOut: number };
}

export interface AgentReplyResult {
  ticketNumber: number;
  deliveryId: number;
  messageId: string;
  status: TicketStatus;
  /** Delivery ids to enqueue after commit (the reply and any on-enter notifications). */
  deliveryIds: number[];
}

/**
 * Writes an agent's reply to the ticket's requester (and cc) into the outbox. It threads in the
 * customer's client: In-Reply-To the last customer Message-ID, the References chain, the subject
 * token; then the rules' status automation for agent replies applies.
 */
export async function createAgentReply(
  tx: Db,
  ctx: AutomaticMailContext,
  ticketNumber: number,
  input: AgentReplyInput,
): Promise<AgentReplyResult> {
  const found = await findTicketByNumber(tx, ticketNumber);
  if (!found) throw new AppError('NOT_FOUND', `no ticket ${ticketNumber}`);
  const ticket = (await lockTicket(tx, found.id))!;
  const mailbox = findMailbox(ctx.ruleSet, ticket.mailbox) ?? ctx.ruleSet.mailboxes[0]!;
  const requester = await findRequester(tx, ticket);
  const lastCustomer = await lastCustomerThread(tx, ticket.id);
  const cc = [...new Set(input.cc.map((a) => a.trim().toLowerCase()).filter((a) => a && a !== requester!.address))];
  for (const address of cc) {
    const contactId = await upsertContact(tx, address, '');
    const added = await addParticipants(tx, ticket.id, [{ contactId, role: 'cc' }]);
    if (added.length) await addTicketEvent(tx, ticket.id, 'participant.added', { address, role: 'cc' });
  }
  const subject = findSubjectTicketNumber(ticket.subject) === ticket.number ? `Re: ${ticket.subject}` : `Re: ${ticket.subject} ${formatSubjectToken(ticket.number)}`;
  const inReplyTo = lastCustomer?.messageId ?? null;
  const deliveryId = await createDelivery(tx, ctx.secret, {
    ticket,
    mailbox,
    kind: 'agent_reply',
    to: [requester!.address],
    cc,
    subject: subject.replace(/[\r\n]+/g, ' '),
    body: input.body,
    inReplyTo,
    references: lastCustomer?.references ?? [],
    ...(input.byMail && { inboundId: input.byMail.inboundId }),
  });
  const via = input.byMail ? { via: 'mail', from: input.byMail.from, attachmentsLeftOut: input.byMail.attachmentsLeftOut } : { via: 'api' };
  const who = input.by === undefined ? {} : { by: input.by };
  await addTicketEvent(tx, ticket.id, 'agent.replied', { deliveryId, to: requester!.address, cc, ...via, ...who });
  const status = input.status ?? ctx.ruleSet.status.on_agent_reply;
  const changed = await changeStatus(tx, ctx, ticket, mailbox, status, 'agent_reply', {
    automation: NO_AUTOMATION,
    inReplyTo,
    references: lastCustomer?.references ?? [],
    by: input.by,
  });
  const delivery = (await getDelivery(tx, deliveryId))!;
  return { ticketNumber, deliveryId, messageId: delivery.messageId, status: changed.ticket.status, deliveryIds: [deliveryId, ...changed.deliveryIds] };
}
