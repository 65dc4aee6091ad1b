import { lastCustomerThread } from '../../db/articles.js';
import type { Db } from '../../db/client.js';
import type { TicketStatus } from '../../db/schema.js';
import { findTicketByNumber, lockTicket } from '../../db/tickets.js';
import { findMailbox } from '../../rules/mailboxes.js';
import { AppError } from '../errors.js';
import { NO_AUTOMATION, type AutomaticMailContext } from './automatic-mail.js';
import { changeStatus, updateTags } from './ticket-status.js';

export interface ManualStatusResult {
  ticketNumber: number;
  from: TicketStatus;
  status: TicketStatus;
  tags: string[];
  /** Delivery ids to enqueue after commit: the notifications entering the status sent. */
  deliveryIds: number[];
}

/**
 * Sets a ticket's status by hand (an agent at the CLI or through the API, `by` naming them): the
 * same change the rules make, so the event is recorded and entering the status runs its actions
 * (tags, notifications, threaded on the customer's last mail). Asking for the status it already
 * has changes nothing.
 */
export async function changeStatusByHand(tx: Db, ctx: AutomaticMailContext, ticketNumber: number, status: TicketStatus, by?: string): Promise<ManualStatusResult> {
  const found = await findTicketByNumber(tx, ticketNumber);
  if (!found) throw new AppError('NOT_FOUND', `no ticket ${ticketNumber}`);
  // Locked, so a mail being filed on the ticket meanwhile sees the new status, not the old one.
  const ticket = (await lockTicket(tx, found.id))!;
  const mailbox = findMailbox(ctx.ruleSet, ticket.mailbox) ?? ctx.ruleSet.mailboxes[0]!;
  const thread = await lastCustomerThread(tx, ticket.id);
  const changed = await changeStatus(tx, ctx, ticket, mailbox, status, 'manual', {
    automation: NO_AUTOMATION,
    inReplyTo: thread?.messageId ?? null,
    references: thread?.references ?? [],
    by,
  });
  return { ticketNumber, from: ticket.status, status: changed.ticket.status, tags: changed.ticket.tags, deliveryIds: changed.deliveryIds };
}

/** Adds and removes a ticket's tags by hand; `by` is kept in the events. */
export async function changeTagsByHand(tx: Db, ticketNumber: number, add: string[], remove: string[], by?: string): Promise<{ ticketNumber: number; tags: string[] }> {
  const found = await findTicketByNumber(tx, ticketNumber);
  if (!found) throw new AppError('NOT_FOUND', `no ticket ${ticketNumber}`);
  const ticket = await updateTags(tx, (await lockTicket(tx, found.id))!, add, remove, by);
  return { ticketNumber, tags: ticket.tags };
}
