import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Db } from '../../db/client.js';
import { withDeadline } from '../deadline.js';
import type { StructureWatch } from '../../parsers/mime-structure.js';
import { conversationKey } from '../../parsers/conversation-key.js';
import type { SpoolBatcher } from './spool-batcher.js';
import { appendInboundChunk, beginChunkedInbound, discardInbound, finishChunkedInbound, insertInbound, type Envelope } from '../../db/inbound.js';

/** Messages up to this size are stored in one INSERT; larger ones in rows of this size. */
export const SPOOL_CHUNK_BYTES = 256 * 1024;

/** Where the header block that names a message's conversation is looked for. */
const HEADER_BYTES = 64 * 1024;

/** The first `limit` bytes of a list of pieces, copying no more than that. */
function firstBytes(pieces: Buffer[], limit: number): Buffer {
  const head: Buffer[] = [];
  let length = 0;
  for (const piece of pieces) {
    if (length >= limit) break;
    head.push(piece);
    length += piece.length;
  }
  return Buffer.concat(head, Math.min(length, limit));
}

/**
 * How long the final commit may take before the sender gets 451 (RFC 5321 §4.5.3.2.6 lets a
 * client wait 10 min for the reply to DATA, but a sender told "try later" at once moves on to
 * its next message). A write that still commits afterwards is a duplicate the pipeline ignores.
 */
const COMMIT_DEADLINE_MS = 8_000;

function withinDeadline<T>(work: Promise<T>): Promise<T> {
  return withDeadline(work, COMMIT_DEADLINE_MS, () => {
    throw new Error(`storage did not commit within ${COMMIT_DEADLINE_MS} ms`);
  });
}

export type SpoolResult =
  | { kind: 'stored'; inboundId: number; sizeBytes: number }
  | { kind: 'too_big'; sizeBytes: number }
  | { kind: 'refused'; sizeBytes: number; reason: string }
  | { kind: 'storage_failed'; sizeBytes: number; error: unknown };

/**
 * Reads a DATA stream to its end and stores it. Always consumes the whole stream (RFC 5321 needs
 * the final dot before any reply), holds at most one chunk in memory, and leaves nothing
 * half-written: a large message stays in state `receiving` until its last chunk is in.
 */
export async function spoolMessage(
  db: Db,
  stream: Readable,
  envelope: Envelope,
  maxBytes: number,
  batcher?: SpoolBatcher,
  /** Looks at the bytes as they pass; a problem it names refuses the message, nothing of it kept. */
  structure?: StructureWatch,
  /** Kept up to date with the bytes read so far, for whoever watches the data rate. */
  received?: { bytes: number },
): Promise<SpoolResult> {
  const hash = createHash('sha256');
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let total = 0;
  let chunkedId: number | null = null;
  let seq = 0;
  let failure: unknown = null;
  /** The header block lies in the first chunk; read before that chunk's bytes leave memory. */
  let key: string | null | undefined;

  const flushChunk = async (): Promise<void> => {
    const pieces = pending;
    pending = [];
    pendingBytes = 0;
    key ??= conversationKey(firstBytes(pieces, HEADER_BYTES));
    chunkedId ??= await beginChunkedInbound(db, envelope);
    await appendInboundChunk(db, chunkedId, seq, pieces);
    seq += 1;
  };

  for await (const piece of stream as AsyncIterable<Buffer>) {
    total += piece.length;
    if (received) received.bytes = total;
    structure?.push(piece);
    if (total > maxBytes || failure || structure?.problem()) continue; // keep draining; the reply comes after the dot
    hash.update(piece);
    pending.push(piece);
    pendingBytes += piece.length;
    if (pendingBytes >= SPOOL_CHUNK_BYTES) {
      try {
        await flushChunk();
      } catch (err) {
        failure = err;
      }
    }
  }

  try {
    const refused = structure?.problem() ?? null;
    if (total > maxBytes || refused) {
      if (chunkedId !== null) await discardInbound(db, chunkedId);
      return refused && total <= maxBytes ? { kind: 'refused', sizeBytes: total, reason: refused } : { kind: 'too_big', sizeBytes: total };
    }
    if (failure) throw failure;
    const sha256 = hash.digest('hex');
    if (chunkedId === null) {
      const raw = Buffer.concat(pending, pendingBytes);
      key = conversationKey(raw);
      const inboundId = await withinDeadline(batcher ? batcher.insert(envelope, raw, sha256, key) : insertInbound(db, envelope, raw, sha256, key));
      return { kind: 'stored', inboundId, sizeBytes: total };
    }
    if (pendingBytes > 0) await withinDeadline(flushChunk());
    await withinDeadline(finishChunkedInbound(db, chunkedId, { sizeBytes: total, sha256, chunkCount: seq, conversationKey: key ?? null }));
    return { kind: 'stored', inboundId: chunkedId, sizeBytes: total };
  } catch (err) {
    if (chunkedId !== null) {
      // Best effort: if storage is down this fails too, and the sweeper deletes the row later.
      await discardInbound(db, chunkedId).catch(() => undefined);
    }
    return { kind: 'storage_failed', sizeBytes: total, error: err };
  }
}
