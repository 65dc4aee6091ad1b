import type { SenderAuth } from '../rules/sender-policy.js';
import { and, asc, desc, eq, gt, gte, inArray, lt, or, sql } from 'drizzle-orm';
import { copyOutBytea, copyRows, copyRunnerOf, type CopyField } from './binary-copy.js';
import type { Db } from './client.js';
import { arrayParameter, fixedStatement, jsonParameter, runFixed, selectListOf } from './fixed-statements.js';
import { inboundChunks, inboundMessages, tickets, type InboundState } from './schema.js';

/** What the SMTP session knew about a message when it arrived. */
export interface Envelope {
  mailFrom: string;
  rcptTo: string[];
  clientAddress: string;
  clientHelo: string | null;
  tls: boolean;
  receivedAt: Date;
}

export type InboundRow = typeof inboundMessages.$inferSelect;
/** A spool row without its bytes, for listings. */
export type InboundSummary = Omit<InboundRow, 'raw'>;

function envelopeColumns(envelope: Envelope) {
  return {
    mailFrom: envelope.mailFrom,
    rcptTo: envelope.rcptTo,
    clientAddress: envelope.clientAddress,
    clientHelo: envelope.clientHelo,
    tls: envelope.tls,
    receivedAt: envelope.receivedAt,
  };
}

/** Stores a message that fits one row; one statement, so it is committed or absent. */
export async function insertInbound(db: Db, envelope: Envelope, raw: Buffer, sha256: string, conversationKey: string | null = null): Promise<number> {
  const [id] = await insertInboundBatch(db, [{ envelope, raw, sha256, conversationKey }]);
  return id!;
}

/**
 * Stores several small messages in one statement (group commit): each caller's 250 still waits
 * for the commit that holds its message. Ids come back in the order of `items` (on PostgreSQL they
 * are drawn first and copied in with the rows; PGlite returns the rows of a multi-row
 * INSERT … RETURNING in the order of its VALUES).
 *
 * The ids are drawn when the batch is written, not ahead in blocks: a conversation is filed in id
 * order, and a block one daemon drew earlier would give its next message a lower id than a reply
 * another daemon has already acknowledged. The id query and the COPY statement still go to the
 * server in one write, so the batch waits one round trip less.
 */
export async function insertInboundBatch(db: Db, items: Array<{ envelope: Envelope; raw: Buffer; sha256: string; conversationKey?: string | null }>): Promise<number[]> {
  const runCopy = copyRunnerOf(db);
  if (runCopy) {
    // Ids first, then one binary COPY of the rows: no hex text of the bytes (see binary-copy.ts).
    return runCopy(async (sql) => {
      // executed now, so that it is queued on the connection before the COPY statement
      const drawn = sql<Array<{ id: string }>>`
        select nextval(pg_get_serial_sequence('inbound_messages', 'id'))::text as id from generate_series(1, ${items.length})`.execute();
      const ids = drawn.then((rows) => rows.map((row) => Number(row.id)));
      const rows = ids.then((drawnIds) =>
        items.map((item, i): CopyField[] => [
          { int8: drawnIds[i]! },
          ...envelopeFields(item.envelope),
          { int4: item.raw.length },
          { text: item.sha256 },
          { bytea: [item.raw] },
          { text: 'received' },
          { text: item.conversationKey ?? null },
        ]),
      );
      await copyRows(sql, 'inbound_messages', [...INBOUND_COPY_COLUMNS, 'size_bytes', 'sha256', 'raw', 'state', 'conversation_key'], rows);
      return ids;
    });
  }
  const rows = await db
    .insert(inboundMessages)
    .values(
      items.map((item) => ({
        ...envelopeColumns(item.envelope),
        raw: item.raw,
        sizeBytes: item.raw.length,
        sha256: item.sha256,
        state: 'received' as const,
        conversationKey: item.conversationKey ?? null,
      })),
    )
    .returning({ id: inboundMessages.id });
  return rows.map((row) => row.id);
}

const INBOUND_COPY_COLUMNS = ['id', 'mail_from', 'rcpt_to', 'client_address', 'client_helo', 'tls', 'received_at'];

function envelopeFields(envelope: Envelope): CopyField[] {
  return [
    { text: envelope.mailFrom },
    { textArray: envelope.rcptTo },
    { text: envelope.clientAddress },
    { text: envelope.clientHelo },
    { bool: envelope.tls },
    { timestamptz: envelope.receivedAt },
  ];
}

/**
 * Starts a large message: a row in state `receiving`, which nothing processes. Its chunks are
 * added one statement at a time and `finishChunkedInbound` flips it to `received`, so no
 * transaction stays open while a slow client sends 25 MB. A row left `receiving` by a crash was
 * never acknowledged and is deleted by the sweeper.
 */
export async function beginChunkedInbound(db: Db, envelope: Envelope): Promise<number> {
  const [row] = await db
    .insert(inboundMessages)
    .values({ ...envelopeColumns(envelope), sizeBytes: 0, sha256: '', state: 'receiving' })
    .returning({ id: inboundMessages.id });
  return row!.id;
}

/** Adds one chunk, given in pieces (binary COPY on PostgreSQL, so the pieces are never joined). */
export async function appendInboundChunk(db: Db, inboundId: number, seq: number, pieces: Buffer[]): Promise<void> {
  const runCopy = copyRunnerOf(db);
  if (runCopy) return runCopy((sql) => copyRows(sql, 'inbound_chunks', ['inbound_id', 'seq', 'data'], [[{ int8: inboundId }, { int4: seq }, { bytea: pieces }]]));
  await db.insert(inboundChunks).values({ inboundId, seq, data: Buffer.concat(pieces) });
}

export async function finishChunkedInbound(
  db: Db,
  inboundId: number,
  totals: { sizeBytes: number; sha256: string; chunkCount: number; conversationKey?: string | null },
): Promise<void> {
  await db
    .update(inboundMessages)
    .set({ ...totals, state: 'received', updatedAt: new Date() })
    .where(and(eq(inboundMessages.id, inboundId), eq(inboundMessages.state, 'receiving')));
}

/** Removes a message that was never acknowledged (chunks go with it). */
export async function discardInbound(db: Db, inboundId: number): Promise<void> {
  await db.delete(inboundMessages).where(and(eq(inboundMessages.id, inboundId), eq(inboundMessages.state, 'receiving')));
}

/** Chunks read per query (embedded database). */
const CHUNKS_PER_READ = 8;

/** The message bytes in one buffer of exactly its size, from the row or its chunks. */
export async function loadInboundRaw(db: Db, row: Pick<InboundRow, 'id' | 'raw' | 'sizeBytes' | 'chunkCount'>): Promise<Buffer> {
  if (row.raw) return row.raw;
  const out = Buffer.allocUnsafe(row.sizeBytes);
  let offset = 0;
  const append = (piece: Buffer): void => {
    if (offset + piece.length > out.length) throw new Error(`spool row ${row.id}: its chunks hold more than ${row.sizeBytes} bytes`);
    offset += piece.copy(out, offset);
  };
  const runCopy = copyRunnerOf(db);
  if (runCopy) {
    // binary COPY: the bytes as stored (a bytea result would arrive as hex text, twice the size)
    if (!Number.isSafeInteger(row.id)) throw new Error(`bad spool id ${row.id}`);
    await runCopy((sql) => copyOutBytea(sql, `select data from inbound_chunks where inbound_id = ${row.id} order by seq`, append));
  } else {
    for (let seq = 0; seq < row.chunkCount; seq += CHUNKS_PER_READ) {
      const chunks = await db
        .select({ data: inboundChunks.data })
        .from(inboundChunks)
        .where(and(eq(inboundChunks.inboundId, row.id), gte(inboundChunks.seq, seq), lt(inboundChunks.seq, seq + CHUNKS_PER_READ)))
        .orderBy(asc(inboundChunks.seq));
      for (const chunk of chunks) append(chunk.data);
    }
  }
  if (offset !== row.sizeBytes) throw new Error(`spool row ${row.id}: ${offset} of ${row.sizeBytes} bytes in its chunks`);
  return out;
}

const claimInboundStatement = fixedStatement(
  `update inbound_messages set state = 'processing', attempts = attempts + 1, updated_at = $2::timestamptz
   where id = $1 and state in ('received', 'processing')
   returning ${selectListOf(inboundMessages)}`,
);

/**
 * Marks a row as being worked on and counts the attempt. Returns null when the row is already
 * finished (processed, ignored, failed) or not there: the caller then has nothing to do.
 */
export async function claimInbound(db: Db, inboundId: number): Promise<InboundRow | null> {
  const [row] = await runFixed<InboundRow>(db, claimInboundStatement, [inboundId, new Date()]);
  return row ?? null;
}

export interface InboundOutcome {
  state: Extract<InboundState, 'processed' | 'ignored' | 'failed' | 'received' | 'suspended'>;
  reason?: string | null;
  error?: string | null;
  ticketId?: number | null;
  articleId?: number | null;
  senderAuth?: SenderAuth | null;
}

// The sender checks' result is written only when given (flag $7): a row handed back keeps it.
const finishInboundStatement = fixedStatement(
  `update inbound_messages set state = $2, state_reason = $3, last_error = $4, ticket_id = $5, article_id = $6,
     sender_auth = case when $7::boolean then $8::jsonb else sender_auth end,
     updated_at = $9::timestamptz, processed_at = $10::timestamptz
   where id = $1`,
);

/** Records how processing ended; `received` hands the row back for a retry. */
export async function finishInbound(db: Db, inboundId: number, outcome: InboundOutcome): Promise<void> {
  const now = new Date();
  await runFixed(db, finishInboundStatement, [
    inboundId,
    outcome.state,
    outcome.reason ?? null,
    outcome.error ?? null,
    outcome.ticketId ?? null,
    outcome.articleId ?? null,
    outcome.senderAuth !== undefined,
    jsonParameter(outcome.senderAuth),
    now,
    outcome.state !== 'received' ? now : null,
  ]);
}

const earliestUnfinishedBeforeStatement = fixedStatement(
  `select id, state from inbound_messages
   where conversation_key = $1 and id < $2 and state in ('received', 'processing')
   order by id limit 1`,
);

/**
 * The earliest unfinished spool row of `row`'s conversation that arrived before it, or null. The
 * state list is written out (not a parameter) so the partial index on unfinished rows serves it.
 */
export async function earliestUnfinishedBefore(db: Db, row: Pick<InboundRow, 'id' | 'conversationKey'>): Promise<{ id: number; state: InboundState } | null> {
  if (row.conversationKey === null) return null;
  const [earlier] = await runFixed<{ id: number; state: InboundState }>(db, earliestUnfinishedBeforeStatement, [row.conversationKey, row.id]);
  return earlier ?? null;
}

/** Locks the row for the processing transaction and tells whether it still needs work. */
export async function lockInboundForProcessing(db: Db, inboundId: number): Promise<boolean> {
  return (await lockInboundRowsForProcessing(db, [inboundId])).has(inboundId);
}

// One text for any number of rows, the ids as one array.
const lockInboundRowsStatement = fixedStatement('select id, state from inbound_messages where id = any($1::bigint[]) order by id for update');

/**
 * Locks these rows for the processing transaction, in id order (so two batches that share rows
 * wait for each other instead of deadlocking): the ids that still need work.
 */
export async function lockInboundRowsForProcessing(db: Db, inboundIds: number[]): Promise<Set<number>> {
  const rows = await runFixed<{ id: number; state: InboundState }>(db, lockInboundRowsStatement, [arrayParameter(inboundIds)]);
  return new Set(rows.filter((row) => row.state === 'processing').map((row) => row.id));
}

const summaryColumns = {
  id: inboundMessages.id,
  receivedAt: inboundMessages.receivedAt,
  mailFrom: inboundMessages.mailFrom,
  rcptTo: inboundMessages.rcptTo,
  clientAddress: inboundMessages.clientAddress,
  clientHelo: inboundMessages.clientHelo,
  tls: inboundMessages.tls,
  sizeBytes: inboundMessages.sizeBytes,
  sha256: inboundMessages.sha256,
  chunkCount: inboundMessages.chunkCount,
  conversationKey: inboundMessages.conversationKey,
  state: inboundMessages.state,
  stateReason: inboundMessages.stateReason,
  attempts: inboundMessages.attempts,
  lastError: inboundMessages.lastError,
  ticketId: inboundMessages.ticketId,
  articleId: inboundMessages.articleId,
  senderAuth: inboundMessages.senderAuth,
  releasedAt: inboundMessages.releasedAt,
  updatedAt: inboundMessages.updatedAt,
  processedAt: inboundMessages.processedAt,
};

export async function getInbound(db: Db, inboundId: number): Promise<InboundSummary | null> {
  const [row] = await db.select(summaryColumns).from(inboundMessages).where(eq(inboundMessages.id, inboundId));
  return row ?? null;
}

/** A row's stored bytes, exactly as received; null when there is no such row. */
export async function findInboundRaw(db: Db, inboundId: number): Promise<Buffer | null> {
  const [row] = await db
    .select({ id: inboundMessages.id, raw: inboundMessages.raw, sizeBytes: inboundMessages.sizeBytes, chunkCount: inboundMessages.chunkCount })
    .from(inboundMessages)
    .where(eq(inboundMessages.id, inboundId));
  return row ? loadInboundRaw(db, row) : null;
}

/** Where a spool row stands: its state, and how processing ended once it has. */
export interface InboundStanding {
  id: number;
  state: InboundState;
  reason: string | null;
  error: string | null;
  ticketId: number | null;
  ticketNumber: number | null;
}

/** Ids per query: a statement has at most 65,535 parameters, and `replay --failed` may name more rows. */
const STANDINGS_PER_QUERY = 5000;

/** The standing of each of `ids` that exists, in the order of `ids`. */
export async function findInboundStandings(db: Db, ids: number[]): Promise<InboundStanding[]> {
  const found: InboundStanding[] = [];
  for (let i = 0; i < ids.length; i += STANDINGS_PER_QUERY) {
    const rows = await db
      .select({
        id: inboundMessages.id,
        state: inboundMessages.state,
        reason: inboundMessages.stateReason,
        error: inboundMessages.lastError,
        ticketId: inboundMessages.ticketId,
        ticketNumber: tickets.number,
      })
      .from(inboundMessages)
      .leftJoin(tickets, eq(tickets.id, inboundMessages.ticketId))
      .where(inArray(inboundMessages.id, ids.slice(i, i + STANDINGS_PER_QUERY)));
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const id of ids.slice(i, i + STANDINGS_PER_QUERY)) {
      const row = byId.get(id);
      if (row) found.push(row);
    }
  }
  return found;
}

/** Newest first; `beforeId` continues a page (ids only grow, so paging never repeats a row). */
export async function listInbound(db: Db, filter: { state?: InboundState; limit: number; beforeId?: number }): Promise<InboundSummary[]> {
  return db
    .select(summaryColumns)
    .from(inboundMessages)
    .where(and(filter.state ? eq(inboundMessages.state, filter.state) : undefined, filter.beforeId !== undefined ? lt(inboundMessages.id, filter.beforeId) : undefined))
    .orderBy(desc(inboundMessages.id))
    .limit(filter.limit);
}

/**
 * Rows the queue may have lost: received but not picked up for `receivedGraceMs`, or stuck in
 * processing longer than `processingLeaseMs` (the worker died).
 */
export async function findUnfinishedInbound(
  db: Db,
  options: { now: Date; receivedGraceMs: number; processingLeaseMs: number; limit: number; afterId?: number },
): Promise<number[]> {
  const receivedBefore = new Date(options.now.getTime() - options.receivedGraceMs);
  const processingBefore = new Date(options.now.getTime() - options.processingLeaseMs);
  const rows = await db
    .select({ id: inboundMessages.id })
    .from(inboundMessages)
    .where(
      and(
        // Paged by id: enqueueing does not change a row, so an unpaged query would return it again.
        options.afterId === undefined ? undefined : gt(inboundMessages.id, options.afterId),
        or(
          and(eq(inboundMessages.state, 'received'), lt(inboundMessages.updatedAt, receivedBefore)),
          and(eq(inboundMessages.state, 'processing'), lt(inboundMessages.updatedAt, processingBefore)),
        ),
      ),
    )
    .orderBy(asc(inboundMessages.id))
    .limit(options.limit);
  return rows.map((row) => row.id);
}

/** Deletes rows that never finished arriving (their sender never got a 250). */
export async function deleteAbandonedInbound(db: Db, olderThan: Date): Promise<number> {
  const rows = await db
    .delete(inboundMessages)
    .where(and(eq(inboundMessages.state, 'receiving'), lt(inboundMessages.receivedAt, olderThan)))
    .returning({ id: inboundMessages.id });
  return rows.length;
}

/** Puts finished rows back in the queue's hands: `ids` or, with `failed`, every failed row. */
export async function resetInboundForReplay(db: Db, target: { ids: number[] } | { failed: true }): Promise<number[]> {
  const where =
    'ids' in target
      ? and(inArray(inboundMessages.id, target.ids), inArray(inboundMessages.state, ['processed', 'ignored', 'failed', 'received']))
      : eq(inboundMessages.state, 'failed');
  const rows = await db
    .update(inboundMessages)
    .set({ state: 'received', attempts: 0, stateReason: null, lastError: null, updatedAt: new Date(), processedAt: null })
    .where(where)
    .returning({ id: inboundMessages.id });
  return rows.map((row) => row.id).sort((a, b) => a - b);
}

/** When the oldest message not yet processed arrived; null when all are done. */
export async function oldestUnprocessedAt(db: Db): Promise<Date | null> {
  const [row] = await db
    .select({ at: sql<string | Date | null>`min(${inboundMessages.receivedAt})` })
    .from(inboundMessages)
    .where(inArray(inboundMessages.state, ['received', 'processing']));
  const at = row?.at ?? null;
  return at === null ? null : new Date(at);
}

/** How many spool rows are in `state` (e.g. failed rows waiting for a replay). */
export async function countInboundInState(db: Db, state: InboundState): Promise<number> {
  const [row] = await db.select({ n: sql<string | number>`count(*)` }).from(inboundMessages).where(eq(inboundMessages.state, state));
  return Number(row?.n ?? 0);
}
