import type { z } from 'zod';
import { ApiRequestError } from './router.js';

/** An opaque page cursor: base64url JSON of where the page ended. Opaque so its form can change. */
export function encodeCursor(position: unknown): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/** The position a cursor holds, or 400 when it is not one this route gave out (or was given for another sort). */
export function decodeCursor<T>(cursor: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (cursor === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ApiRequestError(400, 'invalid cursor: pass nextCursor from the previous page unchanged');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ApiRequestError(400, 'invalid cursor: pass nextCursor from the previous page unchanged, with the same sort and order');
  return parsed.data;
}
