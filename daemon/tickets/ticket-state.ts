import type { Db } from '../../db/client.js';
import { findContact, findRequester, findTicketByNumber, isParticipantAddress, type TicketRow } from '../../db/tickets.js';
import type { TicketBefore } from '../../rules/decide.js';
import type { RuleSet } from '../../rules/schema.js';
import type { FoundField } from '../../rules/verdict.js';
import { knownCustomerFields } from './customer-fields.js';

/** The ticket row as the decision sees it. */
export function ticketBefore(ticket: TicketRow, isNew: boolean, requester: { name: string; address: string } | null): TicketBefore {
  return {
    number: ticket.number,
    isNew,
    status: ticket.status,
    tags: ticket.tags,
    detailRequests: ticket.detailRequests,
    category: ticket.category,
    fields: (ticket.fields ?? {}) as Record<string, FoundField>,
    requester: isNew ? null : requester,
  };
}

/**
 * Whether a reply opens a ticket beside the one it threads to instead of landing on it: a
 * stranger's, when the rules say so, and any reply to a closed ticket (a follow-up).
 */
export function replyRelation(ruleSet: RuleSet, trusted: boolean, ticket: Pick<TicketRow, 'status'>): 'stranger_reply' | 'followup' | null {
  if (!trusted && ruleSet.threading.stranger_reply === 'new_ticket') return 'stranger_reply';
  return ticket.status === 'closed' ? 'followup' : null;
}

export interface ReplyTarget {
  /** What the rules decide on: ticket N, or the ticket the reply would open. */
  ticket: TicketBefore;
  /** The ticket whose rate limits count: N when the reply lands on it, null for a new one. */
  ticketId: number | null;
  /** Set when the reply would open a new ticket linked to N instead of landing on it. */
  opens: { relation: 'followup' | 'stranger_reply'; linkedTo: number } | null;
}

/**
 * Ticket N as a reply from `sender` would find it, read without changing anything: the same
 * choices the daemon makes when it files a reply (a closed ticket gets a follow-up, a stranger a
 * ticket of their own when the rules say so, a new ticket starts with the customer's known fields).
 * A sender is trusted here when they are a participant; the daemon also trusts a signed reply token.
 */
export async function ticketForReply(db: Db, ruleSet: RuleSet, number: number, sender: string, newNumber: number): Promise<ReplyTarget | null> {
  const ticket = await findTicketByNumber(db, number);
  if (!ticket) return null;
  const trusted = await isParticipantAddress(db, ticket.id, [sender]);
  const relation = replyRelation(ruleSet, trusted, ticket);
  if (relation === null) {
    return { ticket: ticketBefore(ticket, false, await findRequester(db, ticket)), ticketId: ticket.id, opens: null };
  }
  const contact = sender ? await findContact(db, sender) : null;
  const carried = contact ? await knownCustomerFields(db, ruleSet, contact.id, 0) : { fields: {} };
  return {
    ticket: { number: newNumber, isNew: true, status: 'new', tags: [], detailRequests: 0, category: ticket.category, fields: carried.fields, requester: null },
    ticketId: null,
    opens: { relation, linkedTo: ticket.number },
  };
}
