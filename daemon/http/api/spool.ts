import { z } from 'zod';
import { findInboundRaw, getInbound, listInbound } from '../../../db/inbound.js';
import { inboundRecord, readInboundDetail } from '../../reports/spool-records.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { ApiCall, ApiRoute } from './router.js';
import { errorBody, replayBody, spoolDetailBody, spoolListBody, spoolQuery } from './schemas.js';
import type { ApiServices } from './services.js';

const idCursor = z.strictObject({ beforeId: z.number().int().positive() });
const spoolId = { id: { pattern: /\d{1,12}/, description: 'the spool row id' } };

/** The spool, as the `inbound` commands show it: rows, one row, its bytes, and a replay. */
export function spoolRoutes(services: ApiServices): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/spool',
      role: 'read',
      summary: 'Spool rows, newest first (as `inbound list --json`).',
      query: spoolQuery,
      responses: { 200: { description: 'one page; nextCursor is null on the last', schema: spoolListBody }, 400: { description: 'invalid query', schema: errorBody } },
      handle: async ({ query }: ApiCall<z.output<typeof spoolQuery>>) => {
        const after = decodeCursor(query.cursor, idCursor);
        const rows = await listInbound(services.db, { state: query.state, limit: query.limit + 1, beforeId: after?.beforeId });
        const page = rows.slice(0, query.limit);
        const next = rows.length > query.limit ? encodeCursor({ beforeId: page.at(-1)!.id }) : null;
        return { status: 200, body: { inbound: page.map(inboundRecord), nextCursor: next } };
      },
    },
    {
      method: 'GET',
      path: '/spool/{id}',
      params: spoolId,
      role: 'read',
      summary: "One spool row with the message's From, To, Subject, Date and Message-ID, or why it cannot be parsed (as `inbound show --json`).",
      responses: { 200: { description: 'the row', schema: spoolDetailBody }, 404: { description: 'no such row', schema: errorBody } },
      handle: async ({ params }) => {
        const found = await readInboundDetail(services.db, Number(params.id));
        return found ? { status: 200, body: found.detail } : { status: 404, body: { error: `no spool row ${params.id}` } };
      },
    },
    {
      method: 'GET',
      path: '/spool/{id}/raw',
      params: spoolId,
      // The whole message, headers and all: more than a reader of tickets sees.
      role: 'admin',
      summary: 'The message exactly as stored, as a download (as `inbound raw`).',
      responses: {
        200: { description: 'the stored bytes', contentType: 'message/rfc822' },
        404: { description: 'no such row, or still arriving', schema: errorBody },
      },
      handle: async ({ params, res }) => {
        const id = Number(params.id);
        const row = await getInbound(services.db, id);
        if (!row) return { status: 404, body: { error: `no spool row ${id}` } };
        if (row.state === 'receiving') return { status: 404, body: { error: `spool row ${id} is still arriving: its bytes are not all stored yet` } };
        const raw = (await findInboundRaw(services.db, id))!;
        res.writeHead(200, {
          'content-type': 'message/rfc822',
          'content-length': raw.length,
          'content-disposition': `attachment; filename="spool-${id}.eml"`,
          'x-content-type-options': 'nosniff',
          'content-security-policy': 'sandbox',
          'cache-control': 'private, no-store',
        });
        res.end(raw);
        return null;
      },
    },
    {
      method: 'POST',
      path: '/spool/{id}/replay',
      params: spoolId,
      role: 'admin',
      summary: 'Process a row again (as `inbound replay`; idempotent: a replayed bounce records nothing again).',
      responses: {
        200: { description: 'set to received and queued', schema: replayBody },
        404: { description: 'no such row', schema: errorBody },
        409: { description: 'the row cannot be replayed now (suspended, receiving, processing)', schema: errorBody },
      },
      handle: async ({ params }) => {
        const id = Number(params.id);
        const result = await services.replayInbound(id);
        const refused = result.notReplayed[0];
        if (refused?.state === null) return { status: 404, body: { error: `no spool row ${id}` } };
        if (refused) return { status: 409, body: { error: `spool row ${id} is ${refused.state} and cannot be replayed${refused.state === 'suspended' ? ' (release it instead)' : ''}` } };
        return { status: 200, body: { ...result, queued: true } };
      },
    },
  ];
}
