import { randomBytes } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../daemon/metrics.js';
import { createDeliverySender } from '../../daemon/outbound/send-delivery.js';
import type { OutboundTransport, TransportResult } from '../../daemon/outbound/transport.js';
import { openDatabase, type Database } from '../../db/client.js';
import { getDelivery, insertDelivery } from '../../db/deliveries.js';
import { migrateDatabase } from '../../db/migrate.js';
import { contacts, deliveries, deliveryRecipients, ticketParticipants } from '../../db/schema.js';
import { addParticipants, createTicket, findTicketById, listTicketEvents, upsertContact } from '../../db/tickets.js';
import { captureLogs } from '../helpers/log-capture.js';
import { waitFor } from '../helpers/wait.js';
import { realMode } from '../helpers/mode.js';
import { useScratchDatabase } from '../helpers/scratch-database.js';

/*
 * What the sender records for each relay answer, read back row by row: the delivery's state and
 * every recipient's columns, the ticket's tag, events and participants. Pinned so that a change
 * in how results are written (fewer statements) cannot change what is written.
 */
let database: Database;
const scratch = useScratchDatabase((opened) => (database = opened));

/** A relay that answers each recipient as told: a [code, text] refusal at RCPT, 'down' for the whole transaction, else 250. */
function relay(answers: Record<string, [number, string] | 'down'>): OutboundTransport {
  return {
    kind: 'relay',
    async send(mail): Promise<TransportResult> {
      const address = mail.envelope.to[0]!;
      const answer = answers[address];
      if (answer === 'down') throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:25'), { code: 'ECONNREFUSED' });
      if (answer) return { accepted: [], rejected: [{ address, code: answer[0], response: `${answer[0]} ${answer[1]}` }] };
      return { accepted: [{ address, response: '250 2.0.0 Ok: queued as ABC' }], rejected: [] };
    },
    close() {},
  };
}

const lifetime = { maxAgeMs: 2 * 86_400_000, retryMinMs: 60_000, retryMaxMs: 3_600_000 };

async function deliveryTo(addresses: string[], createdAt = new Date()): Promise<{ deliveryId: number; ticketId: number }> {
  const db = database.db;
  const requesterId = await upsertContact(db, addresses[0]!, 'Ana');
  const ticket = await createTicket(db, { subject: 'Printer', mailbox: 'desk@example.com', requesterId, category: null, linkedTicketId: null });
  const others = await Promise.all(addresses.slice(1).map((a) => upsertContact(db, a, '')));
  await addParticipants(db, ticket.id, [{ contactId: requesterId, role: 'requester' }, ...others.map((contactId) => ({ contactId, role: 'cc' as const }))]);
  const deliveryId = Number(randomBytes(3).readUIntBE(0, 3)) + 1;
  await insertDelivery(
    db,
    deliveryId,
    {
      ticketId: ticket.id,
      kind: 'acknowledgement',
      mailbox: 'desk@example.com',
      messageId: `m${deliveryId}@example.com`,
      fromName: 'Desk',
      replyTo: 'desk@example.com',
      subject: 'Received: Printer',
      textBody: 'Ticket 1.',
      references: [],
      createdAt,
    },
    addresses,
  );
  return { deliveryId, ticketId: ticket.id };
}

async function send(deliveryId: number, answers: Record<string, [number, string] | 'down'>): Promise<void> {
  const sender = createDeliverySender({
    db: database.db,
    metrics: createMetrics(),
    softBounceLimit: 3,
    logger: captureLogs().logger,
    transport: relay(answers),
    secret: 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz',
    hostname: 'mailroom.test',
    lifetime,
  });
  await sender(deliveryId);
}

async function recipientRows(deliveryId: number) {
  const rows = await database.db.select().from(deliveryRecipients).where(eq(deliveryRecipients.deliveryId, deliveryId)).orderBy(asc(deliveryRecipients.address));
  return rows.map(({ address, state, smtpCode, enhancedStatus, diagnostic, reason, hard, remoteMta }) => ({ address, state, smtpCode, enhancedStatus, diagnostic, reason, hard, remoteMta }));
}

async function participantStates(ticketId: number) {
  const rows = await database.db
    .select({ address: contacts.address, deliveryState: ticketParticipants.deliveryState })
    .from(ticketParticipants)
    .innerJoin(contacts, eq(contacts.id, ticketParticipants.contactId))
    .where(eq(ticketParticipants.ticketId, ticketId))
    .orderBy(asc(contacts.address));
  return rows;
}

const accepted = (address: string) => ({ address, state: 'sent', smtpCode: 250, enhancedStatus: null, diagnostic: '250 2.0.0 Ok: queued as ABC', reason: null, hard: null, remoteMta: null });

describe('recording what the relay said', () => {
  it('records a delivery every recipient of which the relay accepted as sent, and nothing on the ticket', async () => {
    const { deliveryId, ticketId } = await deliveryTo(['ana@client.example', 'bo@client.example']);
    await send(deliveryId, {});
    const delivery = await getDelivery(database.db, deliveryId);
    expect(delivery).toMatchObject({ state: 'sent', attempts: 1, lastError: null, nextAttemptAt: null });
    expect(delivery!.sentAt).toBeInstanceOf(Date);
    expect(await recipientRows(deliveryId)).toEqual([accepted('ana@client.example'), accepted('bo@client.example')]);
    expect((await listTicketEvents(database.db, ticketId)).map((e) => e.type)).toEqual([]);
    expect((await findTicketById(database.db, ticketId))!.tags).toEqual([]);
  });

  it('records one recipient refused with 550 and one accepted as partial, each row as the relay answered, the failure on the ticket', async () => {
    const { deliveryId, ticketId } = await deliveryTo(['ana@client.example', 'nobody@client.example']);
    await send(deliveryId, { 'nobody@client.example': [550, '5.1.1 No such user here'] });
    const delivery = await getDelivery(database.db, deliveryId);
    expect(delivery).toMatchObject({ state: 'partial', attempts: 1, lastError: null, nextAttemptAt: null });
    expect(delivery!.sentAt).toBeInstanceOf(Date);
    expect(await recipientRows(deliveryId)).toEqual([
      accepted('ana@client.example'),
      { address: 'nobody@client.example', state: 'failed', smtpCode: 550, enhancedStatus: '5.1.1', diagnostic: '550 5.1.1 No such user here', reason: 'userunknown', hard: true, remoteMta: null },
    ]);
    const events = await listTicketEvents(database.db, ticketId);
    expect(events.map((e) => [e.type, e.data.text ?? e.data.address])).toEqual([
      ['tag.added', undefined],
      ['delivery.failed', 'could not deliver to some recipients (nobody@client.example (550 5.1.1 user unknown))'],
      ['contact.suppressed', 'nobody@client.example'],
    ]);
    expect((await findTicketById(database.db, ticketId))!.tags).toEqual(['system_email_notification_failure']);
    expect(await participantStates(ticketId)).toEqual([
      { address: 'ana@client.example', deliveryState: null },
      { address: 'nobody@client.example', deliveryState: 'failed' },
    ]);
  });

  it('records a delivery whose only recipient was refused as failed', async () => {
    const { deliveryId, ticketId } = await deliveryTo(['nobody@client.example']);
    await send(deliveryId, { 'nobody@client.example': [550, '5.1.1 No such user here'] });
    expect(await getDelivery(database.db, deliveryId)).toMatchObject({ state: 'failed', lastError: null, nextAttemptAt: null, sentAt: null });
    const events = await listTicketEvents(database.db, ticketId);
    expect(events.find((e) => e.type === 'delivery.failed')!.data.text).toBe('could not deliver to nobody@client.example (550 5.1.1 user unknown)');
  });

  it('defers a recipient the relay answered 4xx, with the next attempt and its error on the delivery, and sends only that one again', async () => {
    const { deliveryId, ticketId } = await deliveryTo(['ana@client.example', 'grey@client.example']);
    const before = Date.now();
    await send(deliveryId, { 'grey@client.example': [450, '4.7.1 Greylisted'] });
    const delivery = await getDelivery(database.db, deliveryId);
    expect(delivery).toMatchObject({ state: 'deferred', attempts: 1, lastError: '450 4.7.1 Greylisted', sentAt: null });
    expect(delivery!.nextAttemptAt!.getTime()).toBeGreaterThanOrEqual(before + 54_000);
    expect(delivery!.nextAttemptAt!.getTime()).toBeLessThanOrEqual(Date.now() + 66_000);
    expect(await recipientRows(deliveryId)).toEqual([
      accepted('ana@client.example'),
      { address: 'grey@client.example', state: 'deferred', smtpCode: 450, enhancedStatus: '4.7.1', diagnostic: '450 4.7.1 Greylisted', reason: 'relay_deferred', hard: false, remoteMta: null },
    ]);
    expect(await listTicketEvents(database.db, ticketId)).toEqual([]);

    // Not due yet: nothing happens. Due: only the deferred copy goes, and the delivery is sent.
    await send(deliveryId, {});
    expect((await getDelivery(database.db, deliveryId))!.attempts).toBe(1);
    await database.db.update(deliveryRecipients).set({ diagnostic: 'kept' }).where(and(eq(deliveryRecipients.deliveryId, deliveryId), eq(deliveryRecipients.address, 'ana@client.example')));
    await database.db.update(deliveries).set({ nextAttemptAt: new Date(0) }).where(eq(deliveries.id, deliveryId));
    await send(deliveryId, {});
    const again = await getDelivery(database.db, deliveryId);
    expect(again).toMatchObject({ state: 'sent', attempts: 2, lastError: null, nextAttemptAt: null });
    expect(again!.sentAt).toBeInstanceOf(Date);
    expect(await recipientRows(deliveryId)).toEqual([{ ...accepted('ana@client.example'), diagnostic: 'kept' }, accepted('grey@client.example')]);
  });

  it('expires what the relay never took by the end of the lifetime: expired rows and state, the event on the ticket, nobody suppressed', async () => {
    const { deliveryId, ticketId } = await deliveryTo(['ana@client.example', 'bo@client.example'], new Date(Date.now() - lifetime.maxAgeMs - 1000));
    await send(deliveryId, { 'ana@client.example': 'down', 'bo@client.example': 'down' });
    expect(await getDelivery(database.db, deliveryId)).toMatchObject({ state: 'expired', lastError: 'connect ECONNREFUSED 127.0.0.1:25', nextAttemptAt: null, sentAt: null });
    const rows = await recipientRows(deliveryId);
    expect(rows.map((r) => [r.address, r.state, r.reason, r.hard])).toEqual([
      ['ana@client.example', 'expired', 'relay_unreachable', false],
      ['bo@client.example', 'expired', 'relay_unreachable', false],
    ]);
    expect((await listTicketEvents(database.db, ticketId)).map((e) => e.type)).toEqual(['tag.added', 'delivery.expired']);
    expect(await participantStates(ticketId)).toEqual([
      { address: 'ana@client.example', deliveryState: null },
      { address: 'bo@client.example', deliveryState: null },
    ]);
  });

  it('never overwrites a failure a bounce recorded first with the relay’s earlier acceptance', async () => {
    const { deliveryId } = await deliveryTo(['ana@client.example', 'bo@client.example']);
    // The bounce of bo's copy is filed while the sender is still talking to the relay.
    const bounced = { state: 'failed' as const, smtpCode: 550, enhancedStatus: '5.1.1', diagnostic: 'bounced', reason: 'userunknown', hard: true };
    const transport = relay({});
    const racing: OutboundTransport = {
      ...transport,
      async send(mail, stem) {
        if (mail.envelope.to[0] === 'bo@client.example') {
          await database.db.update(deliveryRecipients).set(bounced).where(and(eq(deliveryRecipients.deliveryId, deliveryId), eq(deliveryRecipients.address, 'bo@client.example')));
        }
        return transport.send(mail, stem);
      },
    };
    const sender = createDeliverySender({ db: database.db, metrics: createMetrics(), softBounceLimit: 3, logger: captureLogs().logger, transport: racing, secret: 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz', hostname: 'mailroom.test', lifetime });
    await sender(deliveryId);
    expect((await getDelivery(database.db, deliveryId))!.state).toBe('partial');
    expect(await recipientRows(deliveryId)).toEqual([accepted('ana@client.example'), { address: 'bo@client.example', ...bounced, remoteMta: null }]);
  });
});

// Two connections at once: PostgreSQL only (PGlite has one).
if (realMode) {
  describe('recording while a bounce is being recorded (PostgreSQL: PGlite has one connection)', () => {
    it('counts a bounce committed while the sender waited for its row, and keeps what the bounce said', async () => {
      const { deliveryId } = await deliveryTo(['ana@client.example', 'bo@client.example']);
      const bounce = postgres(scratch.url!, { max: 2, onnotice: () => {} });
      try {
        const reserved = await bounce.reserve();
        await reserved`begin`;
        await reserved`update delivery_recipients set state = 'failed', smtp_code = 550, diagnostic = 'bounced' where delivery_id = ${deliveryId} and address = 'bo@client.example'`;
        const sending = send(deliveryId, {});
        // The sender's statement reads its rows before the bounce commits, then waits for bo's lock.
        await waitFor(async () => {
          const [row] = await bounce`select count(*)::int as n from pg_stat_activity where datname = ${scratch.name} and wait_event_type = 'Lock'`;
          return row!.n > 0 ? true : undefined;
        }, 'the sender to wait for the bounce’s row');
        await reserved`commit`;
        reserved.release();
        await sending;
      } finally {
        await bounce.end();
      }
      expect((await getDelivery(database.db, deliveryId))!.state).toBe('partial');
      const rows = await recipientRows(deliveryId);
      expect(rows.map((r) => [r.address, r.state, r.smtpCode, r.diagnostic])).toEqual([
        ['ana@client.example', 'sent', 250, '250 2.0.0 Ok: queued as ABC'],
        ['bo@client.example', 'failed', 550, 'bounced'],
      ]);
    });
  });
}
