import { findArticleHtml, listAttachmentsOf, readAttachmentContent } from '../../db/articles.js';
import type { Db } from '../../db/client.js';
import { THUMBNAIL_TYPES } from '../http/api/attachments.js';
import { sanitizeMailHtml } from './sanitize-mail-html.js';

/** Bytes of inline images one HTML part may carry as data: URIs; the rest are left out. */
export const MAX_INLINE_IMAGE_BYTES = 10 * 1024 * 1024;

export interface ArticleHtmlOptions {
  /**
   * Where `cid:` images point: attachment `id`'s URL, or `'inline'`: into the page as data: URIs.
   * The console needs these: its frame has an opaque origin (sandbox without allow-same-origin), so
   * the browser sends no session cookie with the frame's image requests.
   */
  cidImages: ((id: string) => string) | 'inline';
  /** Keep remote (http, https) images. */
  remoteImages: boolean;
}

/**
 * The sanitized HTML part of article `articleId` on ticket `number`, for the API's and the
 * console's HTML view; null when that ticket has no such article or the article no HTML part.
 */
export async function readArticleHtml(db: Db, number: number, articleId: number, options: ArticleHtmlOptions): Promise<string | null> {
  const html = await findArticleHtml(db, number, articleId);
  if (html === null) return null;
  const attachments = (await listAttachmentsOf(db, [articleId])).map((x) => ({ ...x, id: `${x.articleId}-${x.position}` }));
  let attachmentUrl: (id: string) => string | null;
  if (options.cidImages === 'inline') {
    const inline = new Map<string, string>();
    let budget = MAX_INLINE_IMAGE_BYTES;
    for (const x of attachments) {
      // Only what an <img> decodes as a picture and nothing else, as the sanitizer's own data: rule.
      const type = x.contentType.split(';')[0]!.trim().toLowerCase();
      if (!x.contentId || !THUMBNAIL_TYPES.has(type) || x.size > budget) continue;
      const bytes = await readAttachmentContent(db, x.sha256);
      if (!bytes) continue;
      budget -= bytes.length;
      inline.set(x.id, `data:${type};base64,${bytes.toString('base64')}`);
    }
    attachmentUrl = (id) => inline.get(id) ?? null;
  } else {
    attachmentUrl = options.cidImages;
  }
  return sanitizeMailHtml(html, { attachments, attachmentUrl, remoteImages: options.remoteImages });
}
