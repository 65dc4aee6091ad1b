import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findEarlierCopies, insertArticle } from '../../db/articles.js';
import { askAutomaticMail } from '../../db/automatic-mail-counts.js';
import { openDatabase, type Database } from '../../db/client.js';
import { fixedStatement, jsonParameter, runFixed, arrayParameter } from '../../db/fixed-statements.js';
import { insertDelivery, lockRecipient } from '../../db/deliveries.js';
import { claimInbound, finishInbound, lockInboundRowsForProcessing } from '../../db/inbound.js';
import { migrateDatabase } from '../../db/migrate.js';
import { articles, inboundMessages, ticketEvents, tickets } from '../../db/schema.js';
import { addParticipants, addTicketEvent, createTicket, findContact, saveTicketEvaluation, upsertContact, upsertContactNoting } from '../../db/tickets.js';
import { useScratchDatabase } from '../helpers/scratch-database.js';

/*
 * Fixed statements bypass drizzle's result mapping, so their rows must come back typed as
 * drizzle's would on whichever driver runs: pinned here against drizzle's own reading of the same
 * rows (PGlite in embedded mode, postgres.js in real mode).
 */
let database: Database;
const scratch = useScratchDatabase((opened) => (database = opened));

const everyType = fixedStatement(
  `select $1::bigint as "big", $2::int as "small", $3::timestamptz as "at", $4::text[] as "list", $5::jsonb as "document",
     '\\x00ff41'::bytea as "bytes", true as "flag", null::timestamptz as "never", null::bigint as "none"`,
);

describe('fixed statements', () => {
  it('gives every column type as the code reads it: bigint a number, timestamptz a Date, text[] an array, jsonb parsed, bytea a Buffer', async () => {
    const at = new Date('2026-03-04T05:06:07.890Z');
    const rows = await runFixed<Record<string, unknown>>(database.db, everyType, [
      2 ** 40 + 1,
      7,
      at,
      arrayParameter(['a', 'b "quoted"', 'c,d', '']),
      jsonParameter({ nested: [1, 'two', null], text: 'ü' }),
    ]);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row.big).toBe(2 ** 40 + 1);
    expect(row.small).toBe(7);
    expect(row.at).toBeInstanceOf(Date);
    expect((row.at as Date).toISOString()).toBe(at.toISOString());
    expect(row.list).toEqual(['a', 'b "quoted"', 'c,d', '']);
    expect(row.document).toEqual({ nested: [1, 'two', null], text: 'ü' });
    expect(Buffer.isBuffer(row.bytes)).toBe(true);
    expect([...(row.bytes as Buffer)]).toEqual([0x00, 0xff, 0x41]);
    expect(row.flag).toBe(true);
    expect(row.never).toBeNull();
    expect(row.none).toBeNull();
  });

  it('reads the same again, with the column conversions it learnt from the first result', async () => {
    const rows = await runFixed<Record<string, unknown>>(database.db, everyType, [3, 1, new Date(0), arrayParameter([]), jsonParameter([])]);
    expect(rows[0]).toMatchObject({ big: 3, small: 1, at: new Date(0), list: [], document: [] });
  });

  it('runs inside a transaction, whose rollback takes its writes back', async () => {
    const requesterId = await upsertContact(database.db, 'fixed-rollback@example.test', '');
    await expect(
      database.db.transaction(async (tx) => {
        const ticket = await createTicket(tx, { subject: 'rolled back', mailbox: 'support', requesterId, category: null, linkedTicketId: null });
        const [seen] = await runFixed<{ id: number }>(tx, fixedStatement('select id from tickets where id = $1'), [ticket.id]);
        expect(seen?.id).toBe(ticket.id);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await database.db.select().from(tickets).where(eq(tickets.subject, 'rolled back'))).toEqual([]);
  });

  it('says whether a contact is new, and fills in a name only when none is known', async () => {
    expect(await upsertContactNoting(database.db, ' Fixed-Contact@Example.test', '')).toEqual({ id: expect.any(Number), created: true });
    const again = await upsertContactNoting(database.db, 'fixed-contact@example.test', 'Ana');
    expect(again.created).toBe(false);
    await upsertContactNoting(database.db, 'fixed-contact@example.test', 'Someone else');
    expect(await findContact(database.db, 'fixed-contact@example.test')).toEqual({ id: again.id, name: 'Ana', suppressed: false });
  });

  it('returns rows of the per-mail statements equal to what drizzle reads back from the table', async () => {
    const requesterId = await upsertContact(database.db, 'fixed-rows@example.test', 'Ana');
    const ticket = await createTicket(database.db, { subject: 'Fixed rows', mailbox: 'support', requesterId, category: 'billing', linkedTicketId: null });
    const [ticketRead] = await database.db.select().from(tickets).where(eq(tickets.id, ticket.id));
    expect(ticket).toEqual(ticketRead);
    expect(ticket.tags).toEqual([]);
    expect(ticket.createdAt).toBeInstanceOf(Date);

    await saveTicketEvaluation(database.db, ticket.id, { fields: { order: 'A-1' }, missingFields: ['phone', 'a "b"'], slaDueAt: new Date('2030-01-01T00:00:00Z') });
    const [evaluated] = await database.db.select().from(tickets).where(eq(tickets.id, ticket.id));
    expect(evaluated).toMatchObject({ category: 'billing', fields: { order: 'A-1' }, missingFields: ['phone', 'a "b"'], slaDueAt: new Date('2030-01-01T00:00:00Z') });

    const article = await insertArticle(database.db, {
      ticketId: ticket.id,
      direction: 'inbound',
      messageId: 'fixed-rows@example.test',
      inReplyTo: ['a@example.test'],
      references: ['a@example.test', 'b "c"@example.test'],
      fromAddress: 'fixed-rows@example.test',
      toAddresses: [{ address: 'support@example.test', name: 'Support' }],
      subject: 'Fixed rows',
      textBody: 'body',
      visibleText: 'body',
      bodyHash: 'hash',
    });
    const [articleRead] = await database.db.select().from(articles).where(eq(articles.id, article.id));
    expect(article).toEqual(articleRead);
    expect(article).toMatchObject({ fromName: '', ccAddresses: [], replyTo: [], senderAuth: null, sentAt: null, htmlBody: null });

    const event = await addTicketEvent(database.db, ticket.id, 'fixed.rows', { article: article.id }, article.id);
    const [eventRead] = await database.db.select().from(ticketEvents).where(eq(ticketEvents.id, event.id));
    expect(event).toEqual({ id: eventRead!.id, createdAt: eventRead!.createdAt });
    expect(eventRead).toMatchObject({ type: 'fixed.rows', data: { article: article.id }, articleId: article.id });

    const [inbound] = await database.db
      .insert(inboundMessages)
      .values({ mailFrom: 'a@example.test', rcptTo: ['support@example.test'], clientAddress: '127.0.0.1', sizeBytes: 3, sha256: 'x', raw: Buffer.from('abc'), conversationKey: 'k' })
      .returning({ id: inboundMessages.id });
    const claimed = await claimInbound(database.db, inbound!.id);
    const [inboundRead] = await database.db.select().from(inboundMessages).where(eq(inboundMessages.id, inbound!.id));
    expect(claimed).toEqual(inboundRead);
    expect(claimed).toMatchObject({ state: 'processing', attempts: 1, rcptTo: ['support@example.test'], raw: Buffer.from('abc') });
    await finishInbound(database.db, inbound!.id, { state: 'processed', ticketId: ticket.id, articleId: article.id });
    expect(await claimInbound(database.db, inbound!.id)).toBeNull();
    const [finished] = await database.db.select().from(inboundMessages).where(eq(inboundMessages.id, inbound!.id));
    expect(finished).toMatchObject({ state: 'processed', ticketId: ticket.id, articleId: article.id, stateReason: null, senderAuth: null });
    expect(finished!.processedAt).toBeInstanceOf(Date);
  });

  it('counts automatic mail per window shape, written once for each shape of question', async () => {
    const requesterId = await upsertContact(database.db, 'counted@fixed.example.test', '');
    const ticket = await createTicket(database.db, { subject: 'Counted', mailbox: 'support', requesterId, category: null, linkedTicketId: null });
    const delivery = { ticketId: ticket.id, kind: 'acknowledgement' as const, mailbox: 'desk@example.test', fromName: 'Desk', replyTo: 'desk@example.test', subject: 's', textBody: 't' };
    await insertDelivery(database.db, 900_001, { ...delivery, messageId: 'counted-1@example.test' }, ['Counted+x@fixed.example.test']);
    await insertDelivery(database.db, 900_002, { ...delivery, messageId: 'counted-2@example.test' }, ['other@fixed.example.test']);
    const hourAgo = new Date(Date.now() - 3_600_000);
    const ask = (recipient: string | null, ticketId: number | null) =>
      askAutomaticMail(database.db, {
        ticketId,
        recipient,
        rememberRecipient: true,
        perTicket: [{ since: hourAgo, cap: 5 }, { since: new Date(Date.now() + 60_000), cap: 5 }],
        perRecipient: [{ since: hourAgo, cap: 5 }],
        perDomain: [{ since: hourAgo, cap: 1 }],
        total: [{ since: hourAgo, cap: 1_000 }],
        drawDeliveryIds: true,
      });
    const first = await ask('counted@fixed.example.test', ticket.id);
    expect(first).toMatchObject({ perTicket: [2, 0], perRecipient: [1], perDomain: [1], suppressed: false, reason: null });
    expect(first.total[0]).toBeGreaterThanOrEqual(2);
    expect(first.ids).toEqual({ deliveryId: expect.any(Number), articleId: expect.any(Number) });
    // The same shape again (its statement reused, its parameters new), then another shape.
    const again = await ask('nobody@elsewhere.example.test', ticket.id);
    expect(again).toMatchObject({ perTicket: [2, 0], perRecipient: [0], perDomain: [0] });
    expect(again.ids!.deliveryId).toBeGreaterThan(first.ids!.deliveryId);
    expect(await findContact(database.db, 'nobody@elsewhere.example.test')).toMatchObject({ name: '', suppressed: false });
    expect(await ask(null, null)).toMatchObject({ perTicket: [0, 0], perRecipient: [0], perDomain: [0], suppressed: false, reason: null });
    // No windows at all: a copied recipient made known and asked for its suppression.
    expect(await database.db.transaction((tx) => lockRecipient(tx, 'Copied@Fixed.example.test'))).toEqual({ suppressed: false, reason: null });
    expect(await findContact(database.db, 'copied@fixed.example.test')).toMatchObject({ suppressed: false });
  });

  it('adds only new participants, finds earlier copies of a message and locks only rows still being worked on', async () => {
    const requesterId = await upsertContact(database.db, 'lists@fixed.example.test', '');
    const colleagueId = await upsertContact(database.db, 'colleague@fixed.example.test', '');
    const ticket = await createTicket(database.db, { subject: 'Lists', mailbox: 'support', requesterId, category: null, linkedTicketId: null });
    expect(await addParticipants(database.db, ticket.id, [{ contactId: requesterId, role: 'requester' }])).toEqual([requesterId]);
    expect(await addParticipants(database.db, ticket.id, [{ contactId: requesterId, role: 'requester' }, { contactId: colleagueId, role: 'cc' }])).toEqual([colleagueId]);

    const spool = async (state: 'processing' | 'processed') => {
      const [row] = await database.db
        .insert(inboundMessages)
        .values({ mailFrom: 'a@example.test', rcptTo: ['support@example.test'], clientAddress: '127.0.0.1', sizeBytes: 1, sha256: 'x', raw: Buffer.from('a'), state })
        .returning({ id: inboundMessages.id });
      return row!.id;
    };
    const [working, done, other] = [await spool('processing'), await spool('processed'), await spool('processing')];
    const article = { ticketId: ticket.id, direction: 'inbound' as const, fromAddress: 'lists@fixed.example.test', subject: 's', textBody: 't', visibleText: 't' };
    const stored = await insertArticle(database.db, { ...article, inboundId: working, messageId: 'lists@fixed.example.test', bodyHash: 'same' });
    expect(await findEarlierCopies(database.db, working, null)).toEqual({ stored: { id: stored.id, ticketId: ticket.id }, duplicate: null });
    expect(await findEarlierCopies(database.db, other, { messageId: 'lists@fixed.example.test', bodyHash: 'same' })).toEqual({
      stored: null,
      duplicate: { id: stored.id, ticketId: ticket.id },
    });
    expect(await findEarlierCopies(database.db, other, { messageId: 'lists@fixed.example.test', bodyHash: 'other' })).toEqual({ stored: null, duplicate: null });

    const locked = await database.db.transaction((tx) => lockInboundRowsForProcessing(tx, [other, done, working]));
    expect([...locked].sort((a, b) => a - b)).toEqual([working, other].sort((a, b) => a - b));
  });
});
