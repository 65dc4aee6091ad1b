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
  const { linkedTo } = values;
  const ticket = await createTicket(tx, {
    subject: values.subject,
    mailbox: values.mailbox,
    requesterId: values.requesterId,
    category: values.category,
    linkedTicketId: linkedTo?.ticket.id ?? null,
  });
  const link = linkedTo && { linkedTo: linkedTo.ticket.number, relation: linkedTo.relation };
  await addTicketEvent(tx, ticket.id, 'ticket.created', { via: 'email', inboundId: values.inboundId, mailbox: ticket.mailbox, ...link });
  if (linkedTo) await addTicketEvent(tx, linkedTo.ticket.id, 'ticket.linked', { relation: linkedTo.relation, ticket: ticket.number, from: linkedTo.from });
  return ticket;
}
