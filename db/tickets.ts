import { and, asc, desc, eq, inArray, ne } from 'drizzle-orm';
import { canonicalAddress } from '../parsers/addresses.js';
import { suppressionOf } from './bounces.js';
import type { Db } from './client.js';
import { fixedStatement, jsonParameter, runFixed, selectListOf, arrayParameter } from './fixed-statements.js';
import { takeLaneLock } from './lane-locks.js';
import { articles, contacts, ticketEvents, ticketParticipants, tickets, type TicketStatus } from './schema.js';

export type TicketRow = typeof tickets.$inferSelect;
export type ParticipantRole = 'requester' | 'to' | 'cc';

export async function findTicketByNumber(db: Db, number: number): Promise<TicketRow | null> {
  const [row] = await db.select().from(tickets).where(eq(tickets.number, number));
  return row ?? null;
}

/** Re-reads a ticket and locks its row until the transaction ends. */
export async function lockTicket(db: Db, ticketId: number): Promise<TicketRow | null> {
  await takeLaneLock(db, `ticket:${ticketId}`);
  const [row] = await db.select().from(tickets).where(eq(tickets.id, ticketId)).for('update');
  return row ?? null;
}

export async function findTicketById(db: Db, ticketId: number): Promise<TicketRow | null> {
  const [row] = await db.select().from(tickets).where(eq(tickets.id, ticketId));
  return row ?? null;
}

/** The ticket of the newest stored article whose Message-ID is one of `messageIds`. */
export async function findTicketByMessageIds(db: Db, messageIds: string[]): Promise<TicketRow | null> {
  if (messageIds.length === 0) return null;
  const [row] = await db
    .select({ ticket: tickets })
    .from(articles)
    .innerJoin(tickets, eq(tickets.id, articles.ticketId))
    .where(inArray(articles.messageId, messageIds.slice(0, 100)))
    .orderBy(desc(articles.id))
    .limit(1);
  return row?.ticket ?? null;
}

/** Finds or creates the contact for an address (stored lower case); returns its id. */
export async function upsertContact(db: Db, address: string, name: string): Promise<number> {
  return (await upsertContactNoting(db, address, name)).id;
}

// A known name is kept, filled in when first learnt. A row the statement inserted has no deleting
// or locking transaction yet (xmax 0); an updated one does.
const upsertContactStatement = fixedStatement(
  `insert into contacts (address, canonical_address, name) values ($1, $2, $3)
   on conflict (address) do update set name = case when contacts.name = '' then excluded.name else contacts.name end
   returning id, (xmax = 0) as created`,
);

/** upsertContact, also saying whether the contact is new: a new one has no earlier tickets to ask about. */
export async function upsertContactNoting(db: Db, address: string, name: string): Promise<{ id: number; created: boolean }> {
  const normalized = address.trim().toLowerCase();
  const [row] = await runFixed<{ id: number; created: boolean }>(db, upsertContactStatement, [normalized, canonicalAddress(normalized), name]);
  return { id: row!.id, created: row!.created === true };
}

/** A contact by address, without creating it; suppressed when any address of the same mailbox is. */
export async function findContact(db: Db, address: string): Promise<{ id: number; name: string; suppressed: boolean } | null> {
  const [row] = await db
    .select({ id: contacts.id, name: contacts.name })
    .from(contacts)
    .where(eq(contacts.address, address.trim().toLowerCase()));
  return row ? { id: row.id, name: row.name, suppressed: (await suppressionOf(db, address)).suppressed } : null;
}

/** The ticket's requester: the address automatic mail goes to and the name it greets. */
export async function findRequester(db: Db, ticket: Pick<TicketRow, 'requesterId'>): Promise<{ address: string; name: string } | null> {
  const [row] = await db.select({ address: contacts.address, name: contacts.name }).from(contacts).where(eq(contacts.id, ticket.requesterId));
  return row ?? null;
}

/** The fields of a requester's other tickets, the most recently changed first. */
export async function fieldsOfRequesterTickets(db: Db, requesterId: number, exceptTicketId: number, limit = 20): Promise<Array<{ number: number; fields: unknown }>> {
  return db
    .select({ number: tickets.number, fields: tickets.fields })
    .from(tickets)
    .where(and(eq(tickets.requesterId, requesterId), ne(tickets.id, exceptTicketId)))
    .orderBy(desc(tickets.updatedAt), desc(tickets.id))
    .limit(limit);
}

const createTicketStatement = fixedStatement(
  `insert into tickets (subject, status, mailbox, requester_id, category, linked_ticket_id) values ($1, 'new', $2, $3, $4, $5)
   returning ${selectListOf(tickets)}`,
);

export async function createTicket(
  db: Db,
  values: { subject: string; mailbox: string; requesterId: number; category: string | null; linkedTicketId: number | null },
): Promise<TicketRow> {
  const [row] = await runFixed<TicketRow>(db, createTicketStatement, [values.subject, values.mailbox, values.requesterId, values.category, values.linkedTicketId]);
  return row!;
}

// One text for any number of participants: the columns go as parallel arrays.
const addParticipantsStatement = fixedStatement(
  `insert into ticket_participants (ticket_id, contact_id, role)
   select $1, contact_id, role from unnest($2::bigint[], $3::text[]) as given(contact_id, role)
   on conflict do nothing
   returning contact_id as "contactId"`,
);

/** Adds participants that are not there yet; returns the contact ids actually added. */
export async function addParticipants(
  db: Db,
  ticketId: number,
  participants: Array<{ contactId: number; role: ParticipantRole }>,
): Promise<number[]> {
  if (participants.length === 0) return [];
  const rows = await runFixed<{ contactId: number }>(db, addParticipantsStatement, [
    ticketId,
    arrayParameter(participants.map((p) => p.contactId)),
    arrayParameter(participants.map((p) => p.role)),
  ]);
  return rows.map((row) => row.contactId);
}

/** Whether any of these addresses belongs, canonically, to a participant of the ticket (`ana+x@` is `ana@`). */
export async function isParticipantAddress(db: Db, ticketId: number, addresses: string[]): Promise<boolean> {
  const wanted = [...new Set(addresses.filter((a) => a.trim()).map(canonicalAddress))];
  if (wanted.length === 0) return false;
  const [row] = await db
    .select({ contactId: ticketParticipants.contactId })
    .from(ticketParticipants)
    .innerJoin(contacts, eq(contacts.id, ticketParticipants.contactId))
    .where(and(eq(ticketParticipants.ticketId, ticketId), inArray(contacts.canonicalAddress, wanted)))
    .limit(1);
  return row !== undefined;
}

export async function setTicketStatus(db: Db, ticketId: number, status: TicketStatus): Promise<void> {
  await db.update(tickets).set({ status, updatedAt: new Date() }).where(eq(tickets.id, ticketId));
}

export async function setTicketTags(db: Db, ticketId: number, tags: string[]): Promise<void> {
  await db.update(tickets).set({ tags, updatedAt: new Date() }).where(eq(tickets.id, ticketId));
}

export async function setDetailRequests(db: Db, ticketId: number, detailRequests: number): Promise<void> {
  await db.update(tickets).set({ detailRequests }).where(eq(tickets.id, ticketId));
}

// Category and SLA are written only when given (flags $4 and $6), as they are when the ticket opens.
const saveTicketEvaluationStatement = fixedStatement(
  `update tickets set fields = $2::jsonb, missing_fields = $3::text[],
     category = case when $4::boolean then $5 else category end,
     sla_due_at = case when $6::boolean then $7::timestamptz else sla_due_at end,
     updated_at = $8::timestamptz
   where id = $1`,
);

/** What rule evaluation decided about a ticket: its fields and what is missing; category and SLA when it opened. */
export async function saveTicketEvaluation(
  db: Db,
  ticketId: number,
  values: { fields: Record<string, unknown>; missingFields: string[]; category?: string | null; slaDueAt?: Date | null },
): Promise<void> {
  await runFixed(db, saveTicketEvaluationStatement, [
    ticketId,
    jsonParameter(values.fields),
    arrayParameter(values.missingFields),
    values.category !== undefined,
    values.category ?? null,
    values.slaDueAt !== undefined,
    values.slaDueAt ?? null,
    new Date(),
  ]);
}

export async function touchTicket(db: Db, ticketId: number): Promise<void> {
  await db.update(tickets).set({ updatedAt: new Date() }).where(eq(tickets.id, ticketId));
}

const addTicketEventStatement = fixedStatement(
  `insert into ticket_events (ticket_id, type, data, article_id) values ($1, $2, $3::jsonb, $4) returning id, created_at as "createdAt"`,
);

/** Records an event on a ticket; its id and time (a note is shown by them). */
export async function addTicketEvent(
  db: Db,
  ticketId: number,
  type: string,
  data: Record<string, unknown>,
  articleId: number | null = null,
): Promise<{ id: number; createdAt: Date }> {
  const [row] = await runFixed<{ id: number; createdAt: Date }>(db, addTicketEventStatement, [ticketId, type, jsonParameter(data), articleId]);
  return row!;
}

/** Several events of one ticket in one statement; their ids follow the order given. */
export async function addTicketEvents(db: Db, ticketId: number, events: ReadonlyArray<{ type: string; data: Record<string, unknown> }>, articleId: number | null = null): Promise<void> {
  if (events.length === 0) return;
  await db.insert(ticketEvents).values(events.map((event) => ({ ticketId, type: event.type, data: event.data, articleId })));
}

export async function listParticipants(db: Db, ticketId: number) {
  return db
    .select({
      address: contacts.address,
      name: contacts.name,
      role: ticketParticipants.role,
      deliveryState: ticketParticipants.deliveryState,
      addedAt: ticketParticipants.addedAt,
    })
    .from(ticketParticipants)
    .innerJoin(contacts, eq(contacts.id, ticketParticipants.contactId))
    .where(eq(ticketParticipants.ticketId, ticketId))
    .orderBy(asc(ticketParticipants.addedAt), asc(contacts.address));
}

export async function listTicketEvents(db: Db, ticketId: number) {
  return db
    .select({ id: ticketEvents.id, type: ticketEvents.type, data: ticketEvents.data, articleId: ticketEvents.articleId, createdAt: ticketEvents.createdAt })
    .from(ticketEvents)
    .where(eq(ticketEvents.ticketId, ticketId))
    .orderBy(asc(ticketEvents.id));
}
