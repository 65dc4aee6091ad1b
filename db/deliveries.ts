import { and, asc, desc, eq, getTableColumns, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { canonicalAddress, canonicalDomain } from '../parsers/addresses.js';
import { askAutomaticMail } from './automatic-mail-counts.js';
import type { Db } from './client.js';
import { fixedStatement, runFixed, arrayParameter } from './fixed-statements.js';
import { takeLaneLock } from './lane-locks.js';
import { resultRows } from './result-rows.js';
import { deliveries, deliveryRecipients, type DeliveryState, type RecipientState } from './schema.js';

export type DeliveryRow = typeof deliveries.$inferSelect;
export type NewDelivery = Omit<typeof deliveries.$inferInsert, 'id' | 'state' | 'attempts'>;
export type RecipientRow = typeof deliveryRecipients.$inferSelect;

/**
 * Takes the next delivery id first, because the Message-ID and bounce token are signed with it,
 * and the id of the outbound article that shows the mail, so that both rows, the recipients and
 * the event can be written without waiting for one another's ids.
 */
export async function allocateDeliveryIds(db: Db): Promise<{ deliveryId: number; articleId: number }> {
  const [row] = resultRows<{ delivery_id: string | number; article_id: string | number }>(
    await db.execute(sql`select nextval('deliveries_id_seq')::bigint as delivery_id, nextval('articles_id_seq')::bigint as article_id`),
  );
  return { deliveryId: Number(row!.delivery_id), articleId: Number(row!.article_id) };
}

function recipientAddress(deliveryId: number, address: string) {
  const canonical = canonicalAddress(address);
  return { deliveryId, address: address.toLowerCase(), canonicalAddress: canonical, canonicalDomain: canonicalDomain(canonical) };
}

export async function insertDelivery(db: Db, id: number, values: NewDelivery, to: string[], cc: string[] = []): Promise<void> {
  await insertDeliveryRow(db, id, values);
  await insertRecipients(db, id, to, cc);
}

// A value left out takes the column's default, as drizzle's insert gives it.
const insertDeliveryRowStatement = fixedStatement(
  `insert into deliveries (id, ticket_id, kind, mailbox, message_id, from_name, reply_to, subject, text_body, in_reply_to, "references",
     last_error, next_attempt_at, created_at, updated_at, sent_at)
   values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, coalesce($11::text[], '{}'),
     $12, $13::timestamptz, coalesce($14::timestamptz, now()), coalesce($15::timestamptz, now()), $16::timestamptz)`,
);

/** The delivery's own row, without its recipients (insertRecipients, once this row exists). */
export async function insertDeliveryRow(db: Db, id: number, values: NewDelivery): Promise<void> {
  await runFixed(db, insertDeliveryRowStatement, [
    id,
    values.ticketId,
    values.kind,
    values.mailbox,
    values.messageId,
    values.fromName,
    values.replyTo,
    values.subject,
    values.textBody,
    values.inReplyTo ?? null,
    values.references ? arrayParameter(values.references) : null,
    values.lastError ?? null,
    values.nextAttemptAt ?? null,
    values.createdAt ?? null,
    values.updatedAt ?? null,
    values.sentAt ?? null,
  ]);
}

// One text for any number of recipients: the columns go as parallel arrays.
const insertRecipientsStatement = fixedStatement(
  `insert into delivery_recipients (delivery_id, address, canonical_address, canonical_domain, role)
   select $1, address, canonical_address, canonical_domain, role
   from unnest($2::text[], $3::text[], $4::text[], $5::text[]) as given(address, canonical_address, canonical_domain, role)
   on conflict do nothing`,
);

/** The recipient rows of delivery `id`, whose row must exist already. */
export async function insertRecipients(db: Db, id: number, to: string[], cc: string[] = []): Promise<void> {
  const rows = [
    ...to.map((address) => ({ ...recipientAddress(id, address), role: 'to' as const })),
    ...cc.map((address) => ({ ...recipientAddress(id, address), role: 'cc' as const })),
  ];
  await runFixed(db, insertRecipientsStatement, [
    id,
    arrayParameter(rows.map((row) => row.address)),
    arrayParameter(rows.map((row) => row.canonicalAddress)),
    arrayParameter(rows.map((row) => row.canonicalDomain)),
    arrayParameter(rows.map((row) => row.role)),
  ]);
}

/** Whether delivery `deliveryId` of ticket `ticketId` was addressed to `address`. */
export async function wasDeliveredTo(db: Db, deliveryId: number, ticketId: number, address: string): Promise<boolean> {
  const [row] = await db
    .select({ deliveryId: deliveryRecipients.deliveryId })
    .from(deliveryRecipients)
    .innerJoin(deliveries, eq(deliveries.id, deliveryRecipients.deliveryId))
    .where(and(eq(deliveryRecipients.deliveryId, deliveryId), eq(deliveries.ticketId, ticketId), eq(deliveryRecipients.address, address.toLowerCase())))
    .limit(1);
  return row !== undefined;
}

/**
 * Serialises, for the rest of the transaction, the automatic mail to one mailbox (every address
 * of it: `ana+x@` is `ana@`), so two mails processed at once cannot both pass the rate limit;
 * returns whether any address of that mailbox is suppressed.
 */
export async function lockRecipient(db: Db, address: string): Promise<{ suppressed: boolean; reason: string | null }> {
  await takeRecipientLock(db, address);
  // The contact made known and its suppression asked in one statement, as for the recipient of an automatic mail.
  const { suppressed, reason } = await askAutomaticMail(db, {
    ticketId: null,
    recipient: address,
    rememberRecipient: true,
    perTicket: [],
    perRecipient: [],
    perDomain: [],
    total: [],
    drawDeliveryIds: false,
  });
  return { suppressed, reason };
}

const recipientLockStatement = fixedStatement('select pg_advisory_xact_lock(hashtext($1))');

/** The lock of lockRecipient alone: whatever is asked after it sees every earlier holder's mail. */
export async function takeRecipientLock(db: Db, address: string): Promise<void> {
  const key = `recipient:${canonicalAddress(address)}`;
  await takeLaneLock(db, key);
  await runFixed(db, recipientLockStatement, [key]);
}


/** A row of `table` as `to_json` gives it (snake_case keys, text dates), as drizzle would have read it. */
function fromJsonRow<T extends PgTable>(table: T, json: Record<string, unknown>): T['$inferSelect'] {
  const row: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = json[column.name];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as T['$inferSelect'];
}

// All recipients: a retry's To and Cc name everyone the mail was for, not only who is left.
const claimDeliveryStatement = fixedStatement(`
  with claimed as (
    update deliveries set attempts = attempts + 1, updated_at = $1::timestamptz
    where id = $2
      and (state = 'queued' or (state = 'deferred' and (next_attempt_at is null or next_attempt_at <= $1::timestamptz)))
    returning *
  )
  select to_json(claimed) as delivery,
    (select coalesce(json_agg(r order by r.address), '[]') from delivery_recipients r where r.delivery_id = claimed.id) as recipients
  from claimed`);

/**
 * A delivery due for an attempt (queued, or deferred and its time has come) with all its
 * recipients, counting the attempt; null when it is done or not due yet. One round trip: the
 * claim and the recipients come back together, as JSON, which both drivers read alike.
 */
export async function claimDelivery(db: Db, deliveryId: number, now = new Date()): Promise<{ delivery: DeliveryRow; recipients: RecipientRow[] } | null> {
  const [row] = await runFixed<{ delivery: Record<string, unknown>; recipients: Array<Record<string, unknown>> }>(db, claimDeliveryStatement, [now, deliveryId]);
  if (!row) return null;
  return { delivery: fromJsonRow(deliveries, row.delivery), recipients: row.recipients.map((r) => fromJsonRow(deliveryRecipients, r)) };
}

export interface RecipientResult {
  address: string;
  state: RecipientState;
  smtpCode?: number | null;
  enhancedStatus?: string | null;
  diagnostic?: string | null;
  reason?: string | null;
  hard?: boolean | null;
  remoteMta?: string | null;
}

/**
 * Whether a recipient row takes its result. A fast bounce may land before the sender records its
 * own result: what a bounce said is never overwritten with the relay's earlier "accepted" (or a
 * deferral or expiry).
 */
const TAKES_RESULT = `(x.state is not null and (x.state not in ('sent', 'deferred', 'expired') or r.state in ('pending', 'deferred')))`;

// $1 the results as JSON, $2 now, $3 the delivery, $4 its next attempt (null: none), $5 its last error.
const recordDeliveryResultsStatement = fixedStatement(`
      with given as (
        select * from json_to_recordset($1::json)
          as g(address text, state text, smtp_code integer, enhanced_status text, diagnostic text, reason text, hard boolean, remote_mta text)
      ),
      recorded as (
        update delivery_recipients r set
          state = case when ${TAKES_RESULT} then x.state else r.state end,
          smtp_code = case when ${TAKES_RESULT} then x.smtp_code else r.smtp_code end,
          enhanced_status = case when ${TAKES_RESULT} then x.enhanced_status else r.enhanced_status end,
          diagnostic = case when ${TAKES_RESULT} then x.diagnostic else r.diagnostic end,
          reason = case when ${TAKES_RESULT} then x.reason else r.reason end,
          hard = case when ${TAKES_RESULT} then x.hard else r.hard end,
          remote_mta = case when ${TAKES_RESULT} then x.remote_mta else r.remote_mta end,
          updated_at = case when ${TAKES_RESULT} then $2::timestamptz else r.updated_at end
        from (
          select d.address, g.state, g.smtp_code, g.enhanced_status, g.diagnostic, g.reason, g.hard, g.remote_mta
          from delivery_recipients d left join given g on g.address = d.address
          where d.delivery_id = $3
        ) x
        where r.delivery_id = $3 and r.address = x.address
        returning r.state
      ),
      tally as (
        select count(*) as total,
          count(*) filter (where state in ('pending', 'deferred')) as open,
          count(*) filter (where state = 'failed') as failed,
          count(*) filter (where state = 'expired') as expired
        from recorded
      ),
      settled as (
        select open > 0 as open,
          case
            when open > 0 then case when $4::timestamptz is null then 'queued' else 'deferred' end
            when failed + expired = 0 then 'sent'
            when failed + expired < total then 'partial'
            when failed > 0 then 'failed'
            else 'expired'
          end as state
        from tally
      ),
      stored as (
        update deliveries set
          state = settled.state,
          last_error = $5,
          next_attempt_at = case when settled.open then $4::timestamptz end,
          updated_at = $2::timestamptz,
          sent_at = case when settled.state in ('sent', 'partial') then coalesce(sent_at, now()) end
        from settled
        where id = $3
      )
      select state from settled`);

/**
 * Records recipients' results and settles the delivery from its recipients' states, in one
 * statement: still open (`deferred` until `nextAttemptAt`, else `queued`), or `sent`, `partial`
 * (some failed or expired), `failed`, `expired`. Every recipient row of the delivery is updated,
 * those without a result to what they hold: the update waits for a bounce still being recorded
 * about any of them and then reads its outcome, so the settled state counts it.
 */
export async function recordDeliveryResults(
  db: Db,
  deliveryId: number,
  results: RecipientResult[],
  settle: { lastError: string | null; nextAttemptAt?: Date | null },
): Promise<DeliveryState> {
  const at = new Date();
  const next = settle.nextAttemptAt ?? null;
  const given = JSON.stringify(
    results.map((r) => ({
      address: r.address.toLowerCase(),
      state: r.state,
      smtp_code: r.smtpCode ?? null,
      enhanced_status: r.enhancedStatus ?? null,
      diagnostic: r.diagnostic ?? null,
      reason: r.reason ?? null,
      hard: r.hard ?? null,
      remote_mta: r.remoteMta ?? null,
    })),
  );
  const [row] = await runFixed<{ state: DeliveryState }>(db, recordDeliveryResultsStatement, [given, at, deliveryId, next, settle.lastError]);
  return row!.state;
}

/** Deliveries in one state (or all), newest first, with their recipients: the outbound queue. */
export async function listOutbound(db: Db, filter: { state?: DeliveryState; limit: number }) {
  const rows = await db
    .select()
    .from(deliveries)
    .where(filter.state ? eq(deliveries.state, filter.state) : undefined)
    .orderBy(desc(deliveries.id))
    .limit(filter.limit);
  const recipients = rows.length ? await db.select().from(deliveryRecipients).where(inArray(deliveryRecipients.deliveryId, rows.map((r) => r.id))) : [];
  return rows.map((delivery) => ({ ...delivery, recipients: recipients.filter((r) => r.deliveryId === delivery.id) }));
}

/** Makes deferred deliveries due now (`postqueue -f`): `ids`, or every deferred one. Returns the ids. */
export async function retryDeferred(db: Db, target: { ids: number[] } | { allDeferred: true }): Promise<number[]> {
  const rows = await db
    .update(deliveries)
    .set({ nextAttemptAt: new Date(), updatedAt: new Date() })
    .where(and(eq(deliveries.state, 'deferred'), 'ids' in target ? inArray(deliveries.id, target.ids) : undefined))
    .returning({ id: deliveries.id });
  return rows.map((r) => r.id).sort((a, b) => a - b);
}

/** Deliveries to hand to the send queue: queued ones the queue may have lost, deferred ones now due. */
export async function findUnsentDeliveries(db: Db, olderThan: Date, limit: number, now = new Date()): Promise<number[]> {
  const rows = await db
    .select({ id: deliveries.id })
    .from(deliveries)
    .where(
      or(
        and(eq(deliveries.state, 'queued'), lt(deliveries.updatedAt, olderThan)),
        and(eq(deliveries.state, 'deferred'), or(isNull(deliveries.nextAttemptAt), lte(deliveries.nextAttemptAt, now))),
      ),
    )
    .orderBy(asc(deliveries.id))
    .limit(limit);
  return rows.map((r) => r.id);
}

export async function listTicketDeliveries(db: Db, ticketId: number) {
  const rows = await db.select().from(deliveries).where(eq(deliveries.ticketId, ticketId)).orderBy(asc(deliveries.id));
  const recipients = rows.length
    ? await db.select().from(deliveryRecipients).where(inArray(deliveryRecipients.deliveryId, rows.map((r) => r.id)))
    : [];
  return rows.map((delivery) => ({ ...delivery, recipients: recipients.filter((r) => r.deliveryId === delivery.id) }));
}

export async function getDelivery(db: Db, deliveryId: number): Promise<DeliveryRow | null> {
  const [row] = await db.select().from(deliveries).where(eq(deliveries.id, deliveryId));
  return row ?? null;
}
