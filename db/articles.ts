import { and, asc, desc, eq, inArray, isNotNull, or } from 'drizzle-orm';
import type { ParsedAttachment } from '../parsers/message.js';
import { copyRows, copyRunnerOf } from './binary-copy.js';
import type { Db } from './client.js';
import { articleAttachments, articles, attachmentBlobs, attachmentChunks, tickets } from './schema.js';

export type ArticleRow = typeof articles.$inferSelect;
export type NewArticle = typeof articles.$inferInsert;

/** An attachment as the parser yields it: metadata for the article, bytes for the blob store. */
export type NewAttachment = ParsedAttachment;

export async function insertArticle(db: Db, values: NewArticle): Promise<ArticleRow> {
  const [row] = await db.insert(articles).values(values).returning();
  return row!;
}

/** The article a spool row already produced, if any (re-processing must not add another). */
export async function findArticleByInboundId(db: Db, inboundId: number): Promise<ArticleRow | null> {
  const [row] = await db.select().from(articles).where(eq(articles.inboundId, inboundId));
  return row ?? null;
}

/**
 * Whether this spool row is stored already (a re-run after a crash) and whether the same message
 * (Message-ID and body) is: both in one statement, as each new mail asks both.
 */
export async function findEarlierCopies(
  db: Db,
  inboundId: number,
  message: { messageId: string; bodyHash: string } | null,
): Promise<{ stored: ArticleRef | null; duplicate: ArticleRef | null }> {
  const sameMessage = message ? and(eq(articles.messageId, message.messageId), eq(articles.bodyHash, message.bodyHash)) : undefined;
  const rows = await db
    .select({ id: articles.id, ticketId: articles.ticketId, inboundId: articles.inboundId })
    .from(articles)
    .where(sameMessage ? or(eq(articles.inboundId, inboundId), sameMessage) : eq(articles.inboundId, inboundId));
  const ref = (row: (typeof rows)[number] | undefined) => (row ? { id: row.id, ticketId: row.ticketId } : null);
  return { stored: ref(rows.find((row) => row.inboundId === inboundId)), duplicate: ref(rows.find((row) => row.inboundId !== inboundId)) };
}

export interface ArticleRef {
  id: number;
  ticketId: number;
}

/** Slice size of attachment_chunks rows; also the most bytes one chunk INSERT carries. */
export const ATTACHMENT_CHUNK_BYTES = 256 * 1024;

/**
 * Streams the decoded bytes of the attachments at these part indexes (ParsedAttachment.partIndex)
 * to `onPiece`, one attachment after the other: for attachments parsed without their bytes.
 */
export type AttachmentContentSource = (
  partIndexes: ReadonlySet<number>,
  onPiece: (partIndex: number, piece: Buffer) => Promise<void>,
) => Promise<void>;

/** Stores attachment metadata per article and each distinct content once, in slices. */
export async function insertAttachments(db: Db, articleId: number, attachments: NewAttachment[], contents?: AttachmentContentSource): Promise<void> {
  if (attachments.length === 0) return;
  const distinct = new Map(attachments.map((a) => [a.sha256, a]));
  const added = await db
    .insert(attachmentBlobs)
    .values([...distinct.values()].map((a) => ({ sha256: a.sha256, size: a.size })))
    .onConflictDoNothing()
    .returning({ sha256: attachmentBlobs.sha256 });
  const newBlobs = added.map(({ sha256 }) => distinct.get(sha256)!);
  await insertHeldChunks(db, newBlobs.filter((blob) => blob.content !== null));
  await insertStreamedChunks(db, newBlobs.filter((blob) => blob.content === null), contents);
  await db.insert(articleAttachments).values(
    attachments.map((a, position) => ({
      articleId,
      position,
      filename: a.filename,
      contentType: a.contentType,
      size: a.size,
      sha256: a.sha256,
      contentId: a.contentId,
      disposition: a.disposition,
    })),
  );
}

type ChunkRow = typeof attachmentChunks.$inferInsert;

/** Slices of blobs whose bytes are in memory. */
async function insertHeldChunks(db: Db, blobs: NewAttachment[]): Promise<void> {
  const slices: ChunkRow[] = [];
  for (const blob of blobs) {
    const content = blob.content!;
    for (let seq = 0, offset = 0; offset < content.length || seq === 0; seq += 1, offset += ATTACHMENT_CHUNK_BYTES) {
      slices.push({ sha256: blob.sha256, seq, data: content.subarray(offset, offset + ATTACHMENT_CHUNK_BYTES) });
    }
  }
  await writeChunks(db, slices);
}

/** Slices of blobs parsed without their bytes, written as the bytes stream in: one slice in memory at a time. */
async function insertStreamedChunks(db: Db, blobs: NewAttachment[], contents: AttachmentContentSource | undefined): Promise<void> {
  if (blobs.length === 0) return;
  if (!contents) throw new Error('attachments parsed without their bytes need a content source');
  const byPart = new Map(blobs.map((blob) => [blob.partIndex, { blob, seq: 0, written: 0, pending: [] as Buffer[], pendingBytes: 0 }]));
  const flush = async (state: NonNullable<ReturnType<typeof byPart.get>>): Promise<void> => {
    const data = Buffer.concat(state.pending, state.pendingBytes);
    await writeChunks(db, [{ sha256: state.blob.sha256, seq: state.seq, data }]);
    state.seq += 1;
    state.written += data.length;
    state.pending = [];
    state.pendingBytes = 0;
  };
  await contents(new Set(byPart.keys()), async (partIndex, piece) => {
    const state = byPart.get(partIndex);
    if (!state) return;
    for (let offset = 0; offset < piece.length; ) {
      const take = Math.min(piece.length - offset, ATTACHMENT_CHUNK_BYTES - state.pendingBytes);
      state.pending.push(piece.subarray(offset, offset + take));
      state.pendingBytes += take;
      offset += take;
      if (state.pendingBytes === ATTACHMENT_CHUNK_BYTES) await flush(state);
    }
  });
  for (const state of byPart.values()) {
    if (state.pendingBytes > 0 || state.seq === 0) await flush(state);
    if (state.written !== state.blob.size) {
      throw new Error(`attachment ${state.blob.sha256}: ${state.written} bytes streamed, ${state.blob.size} expected`);
    }
  }
}

/** By binary COPY on PostgreSQL; else INSERTs of at most one slice's worth of bytes each. */
async function writeChunks(db: Db, slices: ChunkRow[]): Promise<void> {
  if (slices.length === 0) return;
  const runCopy = copyRunnerOf(db);
  if (runCopy) {
    const rows = slices.map((slice) => [{ text: slice.sha256 }, { int4: slice.seq }, { bytea: [slice.data] }]);
    return runCopy((sql) => copyRows(sql, 'attachment_chunks', ['sha256', 'seq', 'data'], rows));
  }
  let batch: ChunkRow[] = [];
  let batchBytes = 0;
  for (const slice of slices) {
    if (batch.length > 0 && batchBytes + slice.data.length > ATTACHMENT_CHUNK_BYTES) {
      await db.insert(attachmentChunks).values(batch);
      batch = [];
      batchBytes = 0;
    }
    batch.push(slice);
    batchBytes += slice.data.length;
  }
  await db.insert(attachmentChunks).values(batch);
}

/** The bytes of a stored attachment, or null when no blob has that hash (every blob has a slice 0, empty ones too). */
export async function readAttachmentContent(db: Db, sha256: string): Promise<Buffer | null> {
  const rows = await db
    .select({ data: attachmentChunks.data })
    .from(attachmentChunks)
    .where(eq(attachmentChunks.sha256, sha256))
    .orderBy(asc(attachmentChunks.seq));
  return rows.length === 0 ? null : Buffer.concat(rows.map((row) => row.data));
}

export async function listArticles(db: Db, ticketId: number): Promise<ArticleRow[]> {
  return db.select().from(articles).where(eq(articles.ticketId, ticketId)).orderBy(asc(articles.id));
}

/** The stored HTML part of article `articleId` when that article is on ticket `ticketNumber`; null when it is not, or has none. */
export async function findArticleHtml(db: Db, ticketNumber: number, articleId: number): Promise<string | null> {
  const [row] = await db
    .select({ htmlBody: articles.htmlBody })
    .from(articles)
    .innerJoin(tickets, eq(tickets.id, articles.ticketId))
    .where(and(eq(tickets.number, ticketNumber), eq(articles.id, articleId)));
  return row?.htmlBody ?? null;
}

export async function listAttachmentsOf(db: Db, articleIds: number[]) {
  if (articleIds.length === 0) return [];
  return db
    .select({
      articleId: articleAttachments.articleId,
      position: articleAttachments.position,
      filename: articleAttachments.filename,
      contentType: articleAttachments.contentType,
      size: articleAttachments.size,
      sha256: articleAttachments.sha256,
      contentId: articleAttachments.contentId,
      disposition: articleAttachments.disposition,
    })
    .from(articleAttachments)
    .where(inArray(articleAttachments.articleId, articleIds))
    .orderBy(asc(articleAttachments.articleId), asc(articleAttachments.position));
}

/** The Message-ID and References of the customer's latest mail on a ticket, for an answer to thread under. */
export async function lastCustomerThread(db: Db, ticketId: number): Promise<{ messageId: string | null; references: string[] } | null> {
  const [row] = await db
    .select({ messageId: articles.messageId, references: articles.references })
    .from(articles)
    .where(and(eq(articles.ticketId, ticketId), eq(articles.direction, 'inbound'), isNotNull(articles.messageId)))
    .orderBy(desc(articles.id))
    .limit(1);
  return row ?? null;
}

/** One attachment's metadata, by its article and position (the download id is `<article>-<position>`). */
export async function findAttachment(db: Db, articleId: number, position: number) {
  const [row] = await db
    .select({ filename: articleAttachments.filename, contentType: articleAttachments.contentType, size: articleAttachments.size, sha256: articleAttachments.sha256 })
    .from(articleAttachments)
    .where(and(eq(articleAttachments.articleId, articleId), eq(articleAttachments.position, position)));
  return row ?? null;
}

/** Slice `seq` of a blob, or null past its last one: a download holds one slice in memory at a time. */
export async function readAttachmentChunk(db: Db, sha256: string, seq: number): Promise<Buffer | null> {
  const [row] = await db
    .select({ data: attachmentChunks.data })
    .from(attachmentChunks)
    .where(and(eq(attachmentChunks.sha256, sha256), eq(attachmentChunks.seq, seq)));
  return row?.data ?? null;
}
