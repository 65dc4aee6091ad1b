import { once } from 'node:events';
import type http from 'node:http';
import type { Db } from '../../../db/client.js';
import { findAttachment, readAttachmentChunk } from '../../../db/articles.js';
import type { ApiRoute } from './router.js';
import { errorBody } from './schemas.js';
import type { ApiServices } from './services.js';

/**
 * Types a browser would run or render as a page of our origin (HTML, SVG and other XML, scripts):
 * served as bytes to save, never as what the customer's mail said they are.
 */
const ACTIVE_CONTENT = /html|xml|javascript|ecmascript|x-shockwave-flash|x-mixed-replace/;

/** The Content-Type to serve: the stored type's essence when it is well-formed and inert, else octet-stream. */
export function safeContentType(stored: string): string {
  const essence = stored.split(';')[0]!.trim().toLowerCase();
  if (!/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(essence) || ACTIVE_CONTENT.test(essence)) return 'application/octet-stream';
  return essence;
}

/**
 * RFC 6266 Content-Disposition for a name the sender chose: always `attachment`, an ASCII
 * `filename` with anything that could end the quoted string or the header (quotes, backslashes,
 * CR, LF, control characters) replaced, and the real name in `filename*` (RFC 8187) percent-encoded.
 */
export function contentDisposition(filename: string | null, fallback: string): string {
  const cleaned = (filename ?? '').replace(/[\u0000-\u001f\u007f"\\/]+/g, '').trim() || fallback;
  const ascii = cleaned.replace(/[^\x20-\x7e]/g, '_');
  const encoded = encodeURIComponent(cleaned).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

export function attachmentRoutes(services: ApiServices): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/attachments/{id}',
      params: { id: { pattern: /\d{1,12}-\d{1,5}/, description: 'the attachment id from the ticket (`<article>-<position>`)' } },
      role: 'read',
      summary: 'The bytes of an attachment, always as a download; active types (HTML, SVG, XML, scripts) as application/octet-stream.',
      responses: {
        200: { description: 'the bytes', contentType: 'application/octet-stream' },
        404: { description: 'no such attachment', schema: errorBody },
      },
      handle: async ({ params, res }) => {
        const problem = await sendAttachment(services.db, params.id!, res);
        return problem ? { status: 404, body: { error: problem } } : null;
      },
    },
  ];
}

/** Image types a browser shows in an <img> without running anything: the console's thumbnails. */
export const THUMBNAIL_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/**
 * Streams attachment `id` (`<article>-<position>`) as a download, one 256 KiB slice in memory at a
 * time; the API and the console both serve it so. Returns why it could not, or null once sent.
 */
export async function sendAttachment(db: Db, id: string, res: http.ServerResponse): Promise<string | null> {
  const [articleId, position] = id.split('-').map(Number) as [number, number];
  const attachment = await findAttachment(db, articleId, position);
  if (!attachment) return `no attachment ${id}`;
  const first = await readAttachmentChunk(db, attachment.sha256, 0);
  if (!first) return `the bytes of attachment ${id} are gone`;
  res.writeHead(200, {
    'content-type': safeContentType(attachment.contentType),
    'content-length': attachment.size,
    'content-disposition': contentDisposition(attachment.filename, `attachment-${id}`),
    'x-content-type-options': 'nosniff',
    'content-security-policy': 'sandbox',
    'cache-control': 'private, no-store',
  });
  let chunk: Buffer | null = first;
  for (let seq = 1; chunk !== null && !res.destroyed; seq += 1) {
    if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
    chunk = await readAttachmentChunk(db, attachment.sha256, seq);
  }
  res.end();
  return null;
}
