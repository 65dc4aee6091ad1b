import { and, asc, count, desc, eq, inArray, isNotNull, isNull, lt, lte, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { resultRows } from './result-rows.js';
import { bounces, contacts, ticketEvents, tickets, webhookCursors, webhookDeliveries, type WebhookDeliveryState, type WebhookEventSource } from './schema.js';

export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
export type NewWebhookDelivery = Omit<typeof webhookDeliveries.$inferInsert, 'id' | 'state' | 'attempts'>;

/** A read position: every event of transactions before `transactionId`, and of it up to `eventId`, is read. */
export interface WebhookCursor {
  transactionId: string;
  eventId: number;
}

export interface TicketSummary {
  number: number;
  subject: string;
  status: string;
  mailbox: string;
  requester: string;
}

export interface SourceEvent {
  source: WebhookEventSource;
  id: number;
  transactionId: string;
  type: string;
  data: Record<string, unknown>;
  createdAt: Date;
  ticket: TicketSummary | null;
}

/**
 * The oldest transaction still running: every transaction with a lower id has committed or rolled
 * back, so what it wrote is visible to any statement from now on and nothing below it can appear.
 */
export async function completedTransactionHorizon(db: Db): Promise<string> {
  const [row] = resultRows<{ horizon: string }>(await db.execute(sql`select pg_snapshot_xmin(pg_current_snapshot())::text as horizon`));
  return row!.horizon;
}

/** The cursor of a webhook on a source; a webhook seen for the first time starts at `start` (no history). */
export async function webhookCursor(db: Db, webhookId: string, source: WebhookEventSource, start: string): Promise<WebhookCursor> {
  await db
    .insert(webhookCursors)
    .values({ webhookId, eventSource: source, transactionId: start, eventId: 0 })
    .onConflictDoNothing();
  const [row] = await db
    .select({ transactionId: sql<string>`${webhookCursors.transactionId}::text`, eventId: webhookCursors.eventId })
    .from(webhookCursors)
    .where(and(eq(webhookCursors.webhookId, webhookId), eq(webhookCursors.eventSource, source)));
  return row!;
}

/** Moves a cursor forward, never back (two daemons may read the same range). */
export async function advanceWebhookCursor(db: Db, webhookId: string, source: WebhookEventSource, to: WebhookCursor): Promise<void> {
  await db
    .update(webhookCursors)
    .set({ transactionId: to.transactionId, eventId: to.eventId, updatedAt: new Date() })
    .where(
      and(
        eq(webhookCursors.webhookId, webhookId),
        eq(webhookCursors.eventSource, source),
        sql`(${webhookCursors.transactionId}, ${webhookCursors.eventId}) < (${to.transactionId}::xid8, ${to.eventId})`,
      ),
    );
}

/**
 * Events after `after` written by transactions below `horizon` (all finished), oldest first:
 * ticket events of the given types, or unmatched bounces.
 */
export async function readSourceEvents(
  db: Db,
  source: WebhookEventSource,
  range: { after: WebhookCursor; horizon: string; types: string[]; limit: number },
): Promise<SourceEvent[]> {
  if (source === 'bounce') {
    const rows = await db
      .select({
        id: bounces.id,
        transactionId: sql<string>`${bounces.transactionId}::text`,
        kind: bounces.kind,
        unmatchedReason: bounces.unmatchedReason,
        source: bounces.source,
        originalMessageId: bounces.originalMessageId,
        recipients: bounces.recipients,
        inboundId: bounces.inboundId,
        createdAt: bounces.createdAt,
      })
      .from(bounces)
      .where(
        and(
          sql`(${bounces.transactionId}, ${bounces.id}) > (${range.after.transactionId}::xid8, ${range.after.eventId})`,
          sql`${bounces.transactionId} < ${range.horizon}::xid8`,
          isNull(bounces.matchedBy),
        ),
      )
      .orderBy(asc(bounces.transactionId), asc(bounces.id))
      .limit(range.limit);
    return rows.map(({ id, transactionId, createdAt, ...data }) => ({ source, id, transactionId, type: 'bounce.unmatched', data: { bounceId: id, ...data }, createdAt, ticket: null }));
  }
  if (range.types.length === 0) return [];
  const rows = await db
    .select({
      id: ticketEvents.id,
      transactionId: sql<string>`${ticketEvents.transactionId}::text`,
      type: ticketEvents.type,
      data: ticketEvents.data,
      articleId: ticketEvents.articleId,
      createdAt: ticketEvents.createdAt,
      number: tickets.number,
      subject: tickets.subject,
      status: tickets.status,
      mailbox: tickets.mailbox,
      requester: contacts.address,
    })
    .from(ticketEvents)
    .innerJoin(tickets, eq(tickets.id, ticketEvents.ticketId))
    .innerJoin(contacts, eq(contacts.id, tickets.requesterId))
    .where(
      and(
        sql`(${ticketEvents.transactionId}, ${ticketEvents.id}) > (${range.after.transactionId}::xid8, ${range.after.eventId})`,
        sql`${ticketEvents.transactionId} < ${range.horizon}::xid8`,
        inArray(ticketEvents.type, range.types),
      ),
    )
    .orderBy(asc(ticketEvents.transactionId), asc(ticketEvents.id))
    .limit(range.limit);
  return rows.map((row) => ({
    source,
    id: row.id,
    transactionId: row.transactionId,
    type: row.type,
    data: { ...row.data, ...(row.articleId === null ? {} : { articleId: row.articleId }) },
    createdAt: row.createdAt,
    ticket: { number: row.number, subject: row.subject, status: row.status, mailbox: row.mailbox, requester: row.requester },
  }));
}

/** Adds outbox rows; an event already in a webhook's outbox is not added again. */
export async function insertWebhookDeliveries(db: Db, rows: NewWebhookDelivery[]): Promise<void> {
  if (rows.length === 0) return;
  await db.insert(webhookDeliveries).values(rows).onConflictDoNothing();
}

/**
 * Takes up to `limit` due rows of `webhookIds` and leases them until `leaseUntil`: another daemon
 * skips rows being taken (SKIP LOCKED) and rows leased; a daemon that dies mid-send leaves its
 * rows pending, due again when the lease ends.
 */
export async function claimDueWebhookDeliveries(db: Db, webhookIds: string[], now: Date, leaseUntil: Date, limit: number): Promise<WebhookDeliveryRow[]> {
  if (webhookIds.length === 0) return [];
  const due = db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.state, 'pending'), lte(webhookDeliveries.nextAttemptAt, now), inArray(webhookDeliveries.webhookId, webhookIds)))
    .orderBy(asc(webhookDeliveries.nextAttemptAt), asc(webhookDeliveries.id))
    .limit(limit)
    .for('update', { skipLocked: true });
  return db
    .update(webhookDeliveries)
    .set({ attempts: sql`${webhookDeliveries.attempts} + 1`, nextAttemptAt: leaseUntil, updatedAt: now })
    .where(and(inArray(webhookDeliveries.id, due), eq(webhookDeliveries.state, 'pending')))
    .returning();
}

export type WebhookAttemptOutcome =
  | { state: 'delivered'; statusCode: number; at: Date }
  | { state: 'pending'; statusCode: number | null; error: string; nextAttemptAt: Date; at: Date }
  | { state: 'failed'; statusCode: number | null; error: string; at: Date };

export async function recordWebhookAttempt(db: Db, id: number, outcome: WebhookAttemptOutcome): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set(
      outcome.state === 'delivered'
        ? { state: 'delivered', lastStatusCode: outcome.statusCode, lastError: null, deliveredAt: outcome.at, updatedAt: outcome.at }
        : {
            state: outcome.state,
            lastStatusCode: outcome.statusCode,
            lastError: outcome.error,
            updatedAt: outcome.at,
            ...(outcome.state === 'pending' ? { nextAttemptAt: outcome.nextAttemptAt } : {}),
          },
    )
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.state, 'pending')));
}

export interface WebhookDeliveryCounts {
  pending: number;
  delivered: number;
  failed: number;
  lastError: string | null;
  lastErrorAt: Date | null;
}

/** Per webhook id: rows in each state and the most recent error. */
export async function webhookDeliveryCounts(db: Db): Promise<Map<string, WebhookDeliveryCounts>> {
  const counts = await db
    .select({ webhookId: webhookDeliveries.webhookId, state: webhookDeliveries.state, n: count() })
    .from(webhookDeliveries)
    .groupBy(webhookDeliveries.webhookId, webhookDeliveries.state);
  const errors = await db
    .selectDistinctOn([webhookDeliveries.webhookId], { webhookId: webhookDeliveries.webhookId, lastError: webhookDeliveries.lastError, at: webhookDeliveries.updatedAt })
    .from(webhookDeliveries)
    .where(isNotNull(webhookDeliveries.lastError))
    .orderBy(webhookDeliveries.webhookId, desc(webhookDeliveries.updatedAt));
  const result = new Map<string, WebhookDeliveryCounts>();
  const entry = (id: string) => result.get(id) ?? result.set(id, { pending: 0, delivered: 0, failed: 0, lastError: null, lastErrorAt: null }).get(id)!;
  for (const row of counts) entry(row.webhookId)[row.state] = Number(row.n);
  for (const row of errors) Object.assign(entry(row.webhookId), { lastError: row.lastError, lastErrorAt: row.at });
  return result;
}

/** A webhook's deliveries, newest first; `state` keeps those in it, `beforeId` starts below that row (the next page). */
export async function listWebhookDeliveries(
  db: Db,
  webhookId: string,
  limit: number,
  filter: { state?: WebhookDeliveryState; beforeId?: number } = {},
): Promise<WebhookDeliveryRow[]> {
  return db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.webhookId, webhookId),
        filter.state === undefined ? undefined : eq(webhookDeliveries.state, filter.state),
        filter.beforeId === undefined ? undefined : lt(webhookDeliveries.id, filter.beforeId),
      ),
    )
    .orderBy(desc(webhookDeliveries.id))
    .limit(limit);
}

export async function getWebhookDelivery(db: Db, id: number): Promise<WebhookDeliveryRow | null> {
  const [row] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
  return row ?? null;
}

/** One failed delivery pending again, due now, with a new lifetime (`webhooks retry` for one row); null when it is not failed. */
export async function retryFailedWebhookDelivery(db: Db, id: number, now: Date, expiresAt: Date): Promise<WebhookDeliveryRow | null> {
  const [row] = await db
    .update(webhookDeliveries)
    .set({ state: 'pending', nextAttemptAt: now, expiresAt, updatedAt: now })
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.state, 'failed')))
    .returning();
  return row ?? null;
}

/** Makes a webhook's failed deliveries pending again, due now, with a new lifetime; their ids. */
export async function retryFailedWebhookDeliveries(db: Db, webhookId: string, now: Date, expiresAt: Date): Promise<number[]> {
  const rows = await db
    .update(webhookDeliveries)
    .set({ state: 'pending', nextAttemptAt: now, expiresAt, updatedAt: now })
    .where(and(eq(webhookDeliveries.webhookId, webhookId), eq(webhookDeliveries.state, 'failed')))
    .returning({ id: webhookDeliveries.id });
  return rows.map((row) => row.id);
}

/** Rows waiting to be sent, for the pending gauge. */
export async function countPendingWebhookDeliveries(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(webhookDeliveries).where(eq(webhookDeliveries.state, 'pending' satisfies WebhookDeliveryState));
  return Number(row?.n ?? 0);
}
