import type { Db } from '../../db/client.js';
import { addTicketEvent, findTicketByNumber, lockTicket, touchTicket } from '../../db/tickets.js';
import { AppError } from '../errors.js';

/** The event a note is kept as; `tickets show` and the API list these as `notes`. */
export const NOTE_EVENT = 'note.added';

export interface InternalNote {
  ticketNumber: number;
  id: number;
  text: string;
  by: string;
  at: Date;
}

/**
 * An agent's note on a ticket, for the other agents only: an event, never an article, so no
 * delivery, template or rule ever sees it and nothing is mailed. The status stays; the ticket's
 * updated time moves, as for any other change an agent makes, so the queue shows it was touched.
 */
export async function addInternalNote(tx: Db, ticketNumber: number, text: string, by: string): Promise<InternalNote> {
  const found = await findTicketByNumber(tx, ticketNumber);
  if (!found) throw new AppError('NOT_FOUND', `no ticket ${ticketNumber}`);
  // Locked like every other change, so it is ordered with a mail being filed on the ticket meanwhile.
  const ticket = (await lockTicket(tx, found.id))!;
  const event = await addTicketEvent(tx, ticket.id, NOTE_EVENT, { text, by });
  await touchTicket(tx, ticket.id);
  return { ticketNumber, id: event.id, text, by, at: event.createdAt };
}
