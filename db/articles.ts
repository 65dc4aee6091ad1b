import { and, asc, eq, inArray } from 'drizzle-orm';
import type { ParsedAttachment } from '../parsers/message.js';
import type { Db } from './client.js';
import { articleAttachments, articles, attachmentBlobs } from './schema.js';

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

/** Stores attachment metadata per article and each distinct content once. */
export async function insertAttachments(db: Db, articleId: number, attachments: NewAttachment[]): Promise<void> {
  if (attachments.length === 0) return;
  const distinct = new Map(attachments.map((a) => [a.sha256, a]));
  await db
    .insert(attachmentBlobs)
    .values([...distinct.values()].map((a) => ({ sha256: a.sha256, size: a.size, content: a.content })))
    .onConflictDoNothing();
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
