import type { Db } from '../../db/client.js';
import { findTicketByMessageIds, findTicketByNumber, type TicketRow } from '../../db/tickets.js';
import type { ParsedMessage } from '../../parsers/message.js';
import { findSubjectTicketNumber } from '../../parsers/threading.js';
import { parseOwnMessageId, verifyToken } from '../../parsers/tokens.js';

export type ThreadMethod = 'reply_token' | 'headers' | 'subject_token';
export interface ThreadMatch {
  ticket: TicketRow;
  method: ThreadMethod;
}

/**
 * Finds the ticket a message belongs to, in this order: signed plus-address token,
 * In-Reply-To/References, subject token. Never by subject text alone.
 */
export async function findThread(db: Db, message: ParsedMessage, details: string[], secret: string): Promise<ThreadMatch | null> {
  for (const detail of details) {
    const number = verifyToken(secret, 't', detail);
    if (number === null) continue;
    const ticket = await findTicketByNumber(db, Number(number));
    if (ticket) return { ticket, method: 'reply_token' };
  }
  // In-Reply-To names the message answered; References oldest-first, so read it backwards.
  const ids = [...message.inReplyTo, ...[...message.references].reverse()];
  // A Message-ID mailroom generated names its ticket itself, verifiably.
  for (const id of ids) {
    const own = parseOwnMessageId(secret, id);
    const ticket = own ? await findTicketByNumber(db, own.ticketNumber) : null;
    if (ticket) return { ticket, method: 'headers' };
  }
  const byHeaders = await findTicketByMessageIds(db, ids);
  if (byHeaders) return { ticket: byHeaders, method: 'headers' };
  const number = findSubjectTicketNumber(message.subject);
  if (number !== null) {
    const ticket = await findTicketByNumber(db, number);
    if (ticket) return { ticket, method: 'subject_token' };
  }
  return null;
}
