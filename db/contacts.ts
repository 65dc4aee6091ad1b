import { and, eq, inArray, notInArray, sql } from 'drizzle-orm';
import { canonicalAddress, normalizeAddress } from '../parsers/addresses.js';
import type { Db } from './client.js';
import { contacts, ticketParticipants, tickets } from './schema.js';

export interface RenamedContact {
  /** Tickets the contact takes part in (as requester or participant), by id. */
  ticketIds: number[];
  /** NEW was a contact already: OLD's tickets moved to it and OLD is gone. */
  merged: boolean;
  /** OLD was suppressed; NEW is another mailbox, so it is not. */
  suppressionCleared: boolean;
}

/**
 * Gives contact OLD the address NEW, keeping its tickets: the participant rows and requester
 * references move with it (merged into NEW's contact when NEW exists). What was suppressed or
 * counted against OLD stays with OLD's address: it said nothing about NEW. Null when OLD is no contact.
 */
export async function renameContact(tx: Db, oldAddress: string, newAddress: string): Promise<RenamedContact | null> {
  const from = normalizeAddress(oldAddress);
  const to = normalizeAddress(newAddress);
  const [old] = await tx.select().from(contacts).where(eq(contacts.address, from)).for('update');
  if (!old) return null;
  const requesterOf = await tx.select({ id: tickets.id }).from(tickets).where(eq(tickets.requesterId, old.id));
  const participantOf = await tx.select({ id: ticketParticipants.ticketId }).from(ticketParticipants).where(eq(ticketParticipants.contactId, old.id));
  const ticketIds = [...new Set([...requesterOf, ...participantOf].map((row) => row.id))].sort((a, b) => a - b);
  const suppressionCleared = old.suppressedAt !== null;
  const [existing] = await tx.select({ id: contacts.id }).from(contacts).where(eq(contacts.address, to));
  if (!existing) {
    await tx
      .update(contacts)
      .set({ address: to, canonicalAddress: canonicalAddress(to), suppressedAt: null, suppressionReason: null, softBounces: 0 })
      .where(eq(contacts.id, old.id));
    return { ticketIds, merged: false, suppressionCleared };
  }
  // NEW is known already: its rows win where both take part in one ticket.
  const shared = await tx.select({ id: ticketParticipants.ticketId }).from(ticketParticipants).where(eq(ticketParticipants.contactId, existing.id));
  const sharedIds = shared.map((row) => row.id);
  await tx
    .update(ticketParticipants)
    .set({ contactId: existing.id })
    .where(and(eq(ticketParticipants.contactId, old.id), sharedIds.length ? notInArray(ticketParticipants.ticketId, sharedIds) : undefined));
  if (sharedIds.length) await tx.delete(ticketParticipants).where(and(eq(ticketParticipants.contactId, old.id), inArray(ticketParticipants.ticketId, sharedIds)));
  await tx.update(tickets).set({ requesterId: existing.id, updatedAt: sql`now()` }).where(eq(tickets.requesterId, old.id));
  await tx.delete(contacts).where(eq(contacts.id, old.id));
  return { ticketIds, merged: true, suppressionCleared };
}
