import { z } from 'zod';
import { failuresJson, parseDateFilter } from '../../reports/failures.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { ApiCall, ApiRoute } from './router.js';
import { errorBody, failuresBody, failuresQuery } from './schemas.js';
import type { ApiServices } from './services.js';

const failureCursor = z.strictObject({ key: z.string().regex(/^-?\d{1,20}$/), deliveryId: z.number().int(), recipient: z.string() });

export function failureRoutes(services: ApiServices): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/failures',
      role: 'read',
      summary: 'Recipients mailroom could not deliver to (refused, bounced, expired), newest first.',
      query: failuresQuery,
      responses: { 200: { description: 'one page; nextCursor is null on the last', schema: failuresBody }, 400: { description: 'invalid query', schema: errorBody } },
      handle: async ({ query }: ApiCall<z.output<typeof failuresQuery>>) => {
        const since = parseDateFilter(query.since);
        const until = parseDateFilter(query.until);
        if (since === 'invalid' || until === 'invalid') return { status: 400, body: { error: 'since and until take a date such as 2026-11-21 or 2026-11-21T10:00:00Z' } };
        const after = decodeCursor(query.cursor, failureCursor);
        const rows = await services.failures({ since, until, ticketNumber: query.ticket, reason: query.reason, after, limit: query.limit + 1 });
        const page = rows.slice(0, query.limit);
        const last = page.at(-1);
        return { status: 200, body: { ...failuresJson(page), nextCursor: rows.length > query.limit && last ? encodeCursor(last.mark) : null } };
      },
    },
  ];
}
