import { z } from 'zod';
import { listBounces, listSuppressions, removeSuppression } from '../../../db/bounces.js';
import { bounceRecord, suppressionRecord } from '../../reports/bounce-records.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { ApiCall, ApiRoute } from './router.js';
import { bouncesBody, bouncesQuery, errorBody, suppressionRemovedBody, suppressionsBody } from './schemas.js';
import type { ApiServices } from './services.js';

const idCursor = z.strictObject({ beforeId: z.number().int().positive() });

/** Bounces received and the addresses that get no automatic mail, as `bounces` and `suppressions` give them. */
export function bounceRoutes(services: ApiServices): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/bounces',
      role: 'read',
      summary: 'Bounces, delays and complaints received, newest first (as `bounces --json`).',
      query: bouncesQuery,
      responses: { 200: { description: 'one page; nextCursor is null on the last', schema: bouncesBody }, 400: { description: 'invalid query', schema: errorBody } },
      handle: async ({ query }: ApiCall<z.output<typeof bouncesQuery>>) => {
        const after = decodeCursor(query.cursor, idCursor);
        const rows = await listBounces(services.db, { unmatched: query.unmatched === 'true', limit: query.limit + 1, beforeId: after?.beforeId });
        const page = rows.slice(0, query.limit);
        const next = rows.length > query.limit ? encodeCursor({ beforeId: page.at(-1)!.id }) : null;
        return { status: 200, body: { bounces: page.map(bounceRecord), nextCursor: next } };
      },
    },
    {
      method: 'GET',
      path: '/suppressions',
      role: 'read',
      summary: 'Addresses that get no automatic mail, most recently suppressed first (as `suppressions list --json`).',
      responses: { 200: { description: 'every suppressed address', schema: suppressionsBody } },
      handle: async () => ({ status: 200, body: { suppressions: (await listSuppressions(services.db)).map(suppressionRecord) } }),
    },
    {
      method: 'DELETE',
      path: '/suppressions/{address}',
      params: { address: { pattern: /[^/]{3,254}/, description: 'the address (URL-encoded); every form of the same mailbox is lifted' } },
      role: 'agent',
      summary: 'Send automatic mail to an address again (as `suppressions remove`); nothing is recorded on a ticket.',
      responses: {
        200: { description: 'lifted', schema: suppressionRemovedBody },
        404: { description: 'the address is not suppressed', schema: errorBody },
      },
      handle: async ({ params }) => {
        const address = decodeAddress(params.address!);
        if (address === null || !(await removeSuppression(services.db, address))) return { status: 404, body: { error: `${address ?? params.address!} is not suppressed` } };
        return { status: 200, body: { removed: address.toLowerCase() } };
      },
    },
  ];
}

/** The path segment as text; null when its percent-encoding is broken (then nothing can match it). */
function decodeAddress(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
