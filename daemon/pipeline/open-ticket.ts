import type { Db } from '../../db/client.js';
import { addTicketEvent, createTicket, type TicketRow } from '../../db/tickets.js';

export type LinkRelation = 'followup' | 'stranger_reply' | 'unverified_sender';

export interface NewTicket {
  subject: string;
  mailbox: string;
  requesterId: number;
  category: string | null;
  /** The spool row the mail that opens it arrived in. */
  inboundId: number;
  /** The ticket this one was opened beside instead of landing on it, and why. */
  linkedTo?: { ticket: TicketRow; relation: LinkRelation; from: string };
}

/**
 * Opens a ticket for a mail: the row, its `ticket.created` event and, for one opened beside
 * another, the `ticket.linked` event on that other.
 */
export async function openTicket(tx: Db, values: NewTicket): Promise<TicketRow> {
  const [ticket] = await openTicketAlongside(tx, values, async () => undefined);
  return ticket;
}

/**
 * openTicket, with more work on the new ticket (`alongside`) sent with its events instead of
 * after them: one round trip fewer for each statement that does not wait for another.
 */
export async function openTicketAlongside<T>(tx: Db, values: NewTicket, alongside: (ticket: TicketRow) => Promise<T>): Promise<[TicketRow, T]> {
  const { linkedTo } = values;
  const ticket = await createTicket(tx, {
    subject: values.subject,
    mailbox: values.mailbox,
    requesterId: values.requesterId,
    category: values.category,
    linkedTicketId: linkedTo?.ticket.id ?? null,
  });
  const link = linkedTo && { linkedTo: linkedTo.ticket.number, relation: linkedTo.relation };
  const [, , result] = await Promise.all([
    addTicketEvent(tx, ticket.id, 'ticket.created', { via: 'email', inboundId: values.inboundId, mailbox: ticket.mailbox, ...link }),
    linkedTo ? addTicketEvent(tx, linkedTo.ticket.id, 'ticket.linked', { relation: linkedTo.relation, ticket: ticket.number, from: linkedTo.from }) : null,
    alongside(ticket),
  ]);
  return [ticket, result];
}
