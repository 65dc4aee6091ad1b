import { and, desc, eq, inArray, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import { canonicalAddress } from '../parsers/addresses.js';
import type { Db } from './client.js';
import { bounces, contacts, deliveries, deliveryRecipients, ticketParticipants, tickets, type BounceRowKind } from './schema.js';

export type BounceRow = typeof bounces.$inferSelect;

/** Stores a report; 0 when its spool row already has one (one report per spool row). */
export async function insertBounce(db: Db, values: typeof bounces.$inferInsert): Promise<number> {
  const [row] = await db.insert(bounces).values(values).onConflictDoNothing().returning({ id: bounces.id });
  return row?.id ?? 0;
}

/** The report already recorded for a spool row (a replay must not record it twice). */
export async function findBounceOfInbound(db: Db, inboundId: number): Promise<BounceRow | null> {
  const [row] = await db.select().from(bounces).where(eq(bounces.inboundId, inboundId));
  return row ?? null;
}

/** Newest first; `beforeId` continues a page. */
export async function listBounces(db: Db, filter: { unmatched: boolean; limit: number; beforeId?: number }) {
  return db
    .select()
    .from(bounces)
    .where(and(filter.unmatched ? isNull(bounces.matchedBy) : undefined, filter.beforeId !== undefined ? lt(bounces.id, filter.beforeId) : undefined))
    .orderBy(desc(bounces.id))
    .limit(filter.limit);
}

/** The recipients of a delivery, locked for the rest of the transaction. */
export async function lockDeliveryRecipients(db: Db, deliveryId: number) {
  return db.select().from(deliveryRecipients).where(eq(deliveryRecipients.deliveryId, deliveryId)).for('update');
}

export async function findDeliveryByMessageId(db: Db, messageId: string) {
  const [row] = await db.select().from(deliveries).where(eq(deliveries.messageId, messageId));
  return row ?? null;
}

/** Marks the ticket participant with this address (if any) with the delivery state. */
export async function setParticipantDeliveryState(db: Db, ticketId: number, address: string, state: string): Promise<void> {
  await db
    .update(ticketParticipants)
    .set({ deliveryState: state })
    .where(
      and(
        eq(ticketParticipants.ticketId, ticketId),
        eq(ticketParticipants.contactId, sql`(select ${contacts.id} from ${contacts} where ${contacts.address} = ${address.toLowerCase()})`),
      ),
    );
}

/** Whether any address of this one's mailbox (`ana+x@` is `ana@`) is suppressed, and why. */
export async function suppressionOf(db: Db, address: string): Promise<{ suppressed: boolean; reason: string | null }> {
  const [row] = await db
    .select({ reason: contacts.suppressionReason })
    .from(contacts)
    .where(and(eq(contacts.canonicalAddress, canonicalAddress(address)), isNotNull(contacts.suppressedAt)))
    .limit(1);
  return { suppressed: row !== undefined, reason: row?.reason ?? null };
}

/** Suppresses an address for automatic mail, keeping the first reason. */
export async function suppressContact(db: Db, address: string, reason: string): Promise<boolean> {
  await db.insert(contacts).values({ address: address.toLowerCase(), canonicalAddress: canonicalAddress(address) }).onConflictDoNothing();
  const rows = await db
    .update(contacts)
    .set({ suppressedAt: new Date(), suppressionReason: reason })
    .where(and(eq(contacts.address, address.toLowerCase()), isNull(contacts.suppressedAt)))
    .returning({ id: contacts.id });
  return rows.length > 0;
}

/** Counts one more soft bounce; returns the new count. */
export async function countSoftBounce(db: Db, address: string): Promise<number> {
  await db.insert(contacts).values({ address: address.toLowerCase(), canonicalAddress: canonicalAddress(address) }).onConflictDoNothing();
  const [row] = await db
    .update(contacts)
    .set({ softBounces: sql`${contacts.softBounces} + 1` })
    .where(eq(contacts.address, address.toLowerCase()))
    .returning({ n: contacts.softBounces });
  return row?.n ?? 0;
}

export async function listSuppressions(db: Db) {
  return db
    .select({ address: contacts.address, suppressedAt: contacts.suppressedAt, reason: contacts.suppressionReason, softBounces: contacts.softBounces })
    .from(contacts)
    .where(sql`${contacts.suppressedAt} is not null`)
    .orderBy(desc(contacts.suppressedAt));
}

/** Lifts the suppression of an address and of every other address of the same mailbox. */
export async function removeSuppression(db: Db, address: string): Promise<boolean> {
  const rows = await db
    .update(contacts)
    .set({ suppressedAt: null, suppressionReason: null, softBounces: 0 })
    .where(and(eq(contacts.canonicalAddress, canonicalAddress(address)), sql`${contacts.suppressedAt} is not null`))
    .returning({ id: contacts.id });
  return rows.length > 0;
}

export interface FailureFilter {
  since?: Date;
  until?: Date;
  ticketNumber?: number;
  reason?: string;
  /** Start after this row of the previous page (its `mark`). */
  after?: FailureMark;
  limit: number;
}

/** A row's place in the report's order: its time in microseconds (the database's resolution), delivery and recipient. */
export interface FailureMark {
  key: string;
  deliveryId: number;
  recipient: string;
}

/**
 * Recipients mailroom could not deliver to, newest first: the failures report. `failed` ones were
 * refused or bounced; `expired` ones the relay never took within the queue lifetime.
 */
export async function listFailures(db: Db, filter: FailureFilter) {
  const conditions = [inArray(deliveryRecipients.state, ['failed', 'expired'])];
  if (filter.since) conditions.push(sql`${deliveryRecipients.updatedAt} >= ${filter.since}`);
  if (filter.until) conditions.push(sql`${deliveryRecipients.updatedAt} < ${filter.until}`);
  if (filter.ticketNumber !== undefined) conditions.push(eq(tickets.number, filter.ticketNumber));
  if (filter.reason) conditions.push(eq(deliveryRecipients.reason, filter.reason));
  const key = sql<string>`(extract(epoch from ${deliveryRecipients.updatedAt}) * 1000000)::bigint`;
  if (filter.after) {
    conditions.push(sql`(${key}, ${deliveries.id}, ${deliveryRecipients.address}) < (${filter.after.key}::bigint, ${filter.after.deliveryId}::bigint, ${filter.after.recipient})`);
  }
  const rows = await db
    .select({
      sortKey: sql<string>`${key}::text`,
      at: deliveryRecipients.updatedAt,
      ticketNumber: tickets.number,
      ticketSubject: tickets.subject,
      requester: contacts.address,
      state: deliveryRecipients.state,
      deliveryId: deliveries.id,
      messageId: deliveries.messageId,
      recipient: deliveryRecipients.address,
      kind: deliveries.kind,
      replyCode: deliveryRecipients.smtpCode,
      enhancedStatus: deliveryRecipients.enhancedStatus,
      reason: deliveryRecipients.reason,
      hard: deliveryRecipients.hard,
      diagnostic: deliveryRecipients.diagnostic,
      remoteMta: deliveryRecipients.remoteMta,
    })
    .from(deliveryRecipients)
    .innerJoin(deliveries, eq(deliveries.id, deliveryRecipients.deliveryId))
    .innerJoin(tickets, eq(tickets.id, deliveries.ticketId))
    .leftJoin(contacts, eq(contacts.id, tickets.requesterId))
    .where(and(...conditions))
    .orderBy(desc(key), desc(deliveries.id), desc(deliveryRecipients.address))
    .limit(filter.limit);
  return rows.map(({ sortKey, ...row }) => ({ ...row, mark: { key: sortKey, deliveryId: row.deliveryId, recipient: row.recipient } satisfies FailureMark }));
}

export type { BounceRowKind };
