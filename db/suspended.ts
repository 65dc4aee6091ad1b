import { and, count, desc, eq, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { getInbound, type InboundSummary } from './inbound.js';
import { inboundChunks, inboundMessages } from './schema.js';

/** Enough of a message to read its header block in a listing without loading a 25 MB body. */
const HEAD_BYTES = 16 * 1024;

export interface SuspendedSummary {
  id: number;
  receivedAt: Date;
  reason: string | null;
  mailFrom: string;
  rcptTo: string[];
  clientAddress: string;
  sizeBytes: number;
  /** The first bytes of the message (its header block, usually whole). */
  head: Buffer;
}

/** Suspended rows, newest first, each with the start of its bytes. */
export async function listSuspended(db: Db, limit: number): Promise<SuspendedSummary[]> {
  const firstChunk = sql`(select substring(${inboundChunks.data} from 1 for ${HEAD_BYTES}) from ${inboundChunks} where ${inboundChunks.inboundId} = ${inboundMessages.id} and ${inboundChunks.seq} = 0)`;
  const rows = await db
    .select({
      id: inboundMessages.id,
      receivedAt: inboundMessages.receivedAt,
      reason: inboundMessages.stateReason,
      mailFrom: inboundMessages.mailFrom,
      rcptTo: inboundMessages.rcptTo,
      clientAddress: inboundMessages.clientAddress,
      sizeBytes: inboundMessages.sizeBytes,
      head: sql<Buffer | Uint8Array | null>`coalesce(substring(${inboundMessages.raw} from 1 for ${HEAD_BYTES}), ${firstChunk})`,
    })
    .from(inboundMessages)
    .where(eq(inboundMessages.state, 'suspended'))
    .orderBy(desc(inboundMessages.id))
    .limit(limit);
  return rows.map((row) => ({ ...row, head: row.head ? Buffer.from(row.head) : Buffer.alloc(0) }));
}

export async function countSuspended(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(inboundMessages).where(eq(inboundMessages.state, 'suspended'));
  return Number(row?.n ?? 0);
}

/** The row when it is suspended; otherwise a sentence saying what it is instead. */
export async function findSuspended(db: Db, inboundId: number): Promise<{ row: InboundSummary } | { problem: string }> {
  const row = await getInbound(db, inboundId);
  if (!row) return { problem: `no spool row ${inboundId}` };
  if (row.state !== 'suspended') return { problem: `spool row ${inboundId} is not suspended (it is ${row.state})` };
  return { row };
}

/**
 * Hands a suspended row back for processing, marked released so it is not suspended again.
 * False when it is no longer suspended (released or deleted meanwhile).
 */
export async function releaseSuspended(db: Db, inboundId: number): Promise<boolean> {
  const now = new Date();
  const rows = await db
    .update(inboundMessages)
    .set({ state: 'received', releasedAt: now, attempts: 0, lastError: null, updatedAt: now, processedAt: null })
    .where(and(eq(inboundMessages.id, inboundId), eq(inboundMessages.state, 'suspended')))
    .returning({ id: inboundMessages.id });
  return rows.length === 1;
}

/** Deletes a suspended row and its bytes for good. False when it is no longer suspended. */
export async function deleteSuspended(db: Db, inboundId: number): Promise<boolean> {
  const rows = await db
    .delete(inboundMessages)
    .where(and(eq(inboundMessages.id, inboundId), eq(inboundMessages.state, 'suspended')))
    .returning({ id: inboundMessages.id });
  return rows.length === 1;
}
