import { and, asc, eq, inArray } from 'drizzle-orm';
import type { ParsedAttachment } from '../parsers/message.js';
import { copyRows, postgresClientOf } from './binary-copy.js';
import type { Db } from './client.js';
import { articleAttachments, articles, attachmentBlobs, attachmentChunks } from './schema.js';

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

/** An article with the same Message-ID and body: the same message delivered again. */
export async function findDuplicateArticle(db: Db, messageId: string, bodyHash: string): Promise<ArticleRow | null> {
  const [row] = await db
    .select()
    .from(articles)
    .where(and(eq(articles.messageId, messageId), eq(articles.bodyHash, bodyHash)));
  return row ?? null;
}

/** Slice size of attachment_chunks rows; also the most bytes one chunk INSERT carries. */
export const ATTACHMENT_CHUNK_BYTES = 256 * 1024;

/** Stores attachment metadata per article and each distinct content once, in slices. */
export async function insertAttachments(db: Db, articleId: number, attachments: NewAttachment[]): Promise<void> {
  if (attachments.length === 0) return;
  const distinct = new Map(attachments.map((a) => [a.sha256, a]));
  const added = await db
    .insert(attachmentBlobs)
    .values([...distinct.values()].map((a) => ({ sha256: a.sha256, size: a.size })))
    .onConflictDoNothing()
    .returning({ sha256: attachmentBlobs.sha256 });
  await insertChunks(db, added.map(({ sha256 }) => distinct.get(sha256)!));
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

/** Writes the slices of new blobs: by binary COPY on PostgreSQL, else a slice's worth of bytes per INSERT. */
async function insertChunks(db: Db, blobs: NewAttachment[]): Promise<void> {
  const slices = blobs.flatMap((blob) => {
    const out: Array<typeof attachmentChunks.$inferInsert> = [];
    for (let seq = 0, offset = 0; offset < blob.content.length || seq === 0; seq += 1, offset += ATTACHMENT_CHUNK_BYTES) {
      out.push({ sha256: blob.sha256, seq, data: blob.content.subarray(offset, offset + ATTACHMENT_CHUNK_BYTES) });
    }
    return out;
  });
  if (slices.length === 0) return;
  const sql = postgresClientOf(db);
  if (sql) {
    const rows = slices.map((slice) => [{ text: slice.sha256 }, { int4: slice.seq }, { bytea: [slice.data] }]);
    return copyRows(sql, 'attachment_chunks', ['sha256', 'seq', 'data'], rows);
  }
  let batch: typeof slices = [];
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

/** The bytes of a stored attachment, or null when no blob has that hash. */
export async function readAttachmentContent(db: Db, sha256: string): Promise<Buffer | null> {
  const rows = await db
    .select({ data: attachmentChunks.data })
    .from(attachmentChunks)
    .where(eq(attachmentChunks.sha256, sha256))
    .orderBy(asc(attachmentChunks.seq));
  if (rows.length === 0) {
    const [blob] = await db.select({ size: attachmentBlobs.size }).from(attachmentBlobs).where(eq(attachmentBlobs.sha256, sha256));
    return blob ? Buffer.alloc(0) : null;
  }
  return Buffer.concat(rows.map((row) => row.data));
}

export async function listArticles(db: Db, ticketId: number): Promise<ArticleRow[]> {
  return db.select().from(articles).where(eq(articles.ticketId, ticketId)).orderBy(asc(articles.id));
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
