import { z } from 'zod';
import { pageTickets, type TicketPageMark } from '../../../db/ticket-pages.js';
import { readArticleHtml } from '../../reports/article-html.js';
import { readTicketDetail } from '../../reports/ticket-detail.js';
import { ticketDetailJson } from '../../reports/ticket-detail-json.js';
import { sendArticleHtml } from './article-html.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { ApiCall, ApiRoute } from './router.js';
import {
  articleHtmlQuery,
  errorBody,
  noteBody,
  noteRequest,
  replyBody,
  replyRequest,
  statusBody,
  statusRequest,
  tagsBody,
  tagsRequest,
  ticketDetailBody,
  ticketListBody,
  ticketListQuery,
} from './schemas.js';
import type { ApiServices } from './services.js';

const ticketNumber = { number: { pattern: /\d{1,12}/, description: 'the ticket number, e.g. 1000' } };
const notFound = { description: 'no such ticket', schema: errorBody };
const attachmentUrl = (id: string) => `/api/v1/attachments/${id}`;
const invalid = { description: 'the body or query does not validate', schema: errorBody };

/** Cursors carry the sort they were made for: a page of another sort would start in the wrong place. */
const ticketCursor = z.strictObject({ sort: z.string(), order: z.string(), key: z.string().regex(/^-?\d{1,20}$/), id: z.number().int() });

export function ticketRoutes(services: ApiServices): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/tickets',
      role: 'read',
      summary: 'Tickets, newest change first by default; filters combine (and).',
      query: ticketListQuery,
      responses: { 200: { description: 'one page; nextCursor is null on the last', schema: ticketListBody }, 400: invalid },
      handle: async ({ query }: ApiCall<z.output<typeof ticketListQuery>>) => {
        const position = decodeCursor(query.cursor, ticketCursor);
        if (position && (position.sort !== query.sort || position.order !== query.order)) {
          return { status: 400, body: { error: 'invalid cursor: it was made for another sort or order' } };
        }
        const after: TicketPageMark | undefined = position && { key: position.key, id: position.id };
        // One row more than asked says whether another page follows.
        const rows = await pageTickets(services.db, { ...query, after, limit: query.limit + 1 });
        const page = rows.slice(0, query.limit);
        const last = page.at(-1);
        const nextCursor = rows.length > query.limit && last ? encodeCursor({ sort: query.sort, order: query.order, ...last.mark }) : null;
        return {
          status: 200,
          body: {
            tickets: page.map(({ mark: _mark, ...row }) => ({ ...row, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() })),
            nextCursor,
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/tickets/{number}',
      params: ticketNumber,
      role: 'read',
      summary: 'A ticket: participants, articles (visible and full text, sanitized HTML, attachments), deliveries per recipient, events.',
      responses: { 200: { description: 'the ticket', schema: ticketDetailBody }, 404: notFound },
      handle: async ({ params }) => {
        const detail = await readTicketDetail(services.db, Number(params.number));
        if (!detail) return { status: 404, body: { error: `no ticket ${params.number}` } };
        const json = ticketDetailJson(detail, attachmentUrl);
        const articles = json.articles.map((a) => ({
          ...a,
          attachments: a.attachments.map((x) => ({ id: x.id, url: attachmentUrl(x.id), filename: x.filename, contentType: x.contentType, size: x.size, sha256: x.sha256, contentId: x.contentId })),
        }));
        return { status: 200, body: { ...json, articles } };
      },
    },
    {
      method: 'GET',
      path: '/tickets/{number}/articles/{articleId}/html',
      params: { ...ticketNumber, articleId: { pattern: /\d{1,12}/, description: "the article's id, as the ticket gives it" } },
      role: 'read',
      summary:
        "An article's HTML part, sanitized, as a page: no script, nothing loaded but the article's inline images (cid:, at their attachment URL) and data: images; remote images only with remote=1. Served with a CSP that sandboxes it.",
      query: articleHtmlQuery,
      responses: {
        200: { description: 'the sanitized HTML page', contentType: 'text/html' },
        400: invalid,
        404: { description: 'no such ticket or article, or the article has no HTML part', schema: errorBody },
      },
      handle: async ({ params, query, res }: ApiCall<z.output<typeof articleHtmlQuery>>) => {
        const remoteImages = query.remote === '1' || query.remote === 'true';
        const html = await readArticleHtml(services.db, Number(params.number), Number(params.articleId), { cidImages: attachmentUrl, remoteImages });
        if (html === null) return { status: 404, body: { error: `ticket ${params.number} has no article ${params.articleId} with an HTML part` } };
        sendArticleHtml(res, html, { remoteImages, frameAncestors: "'none'" });
        return null;
      },
    },
    {
      method: 'POST',
      path: '/tickets/{number}/status',
      params: ticketNumber,
      role: 'agent',
      summary: "Set the status as the rules would: the event (with the token's name) and the status's on_enter actions; the status it already has changes nothing.",
      body: statusRequest,
      responses: { 200: { description: 'the status now', schema: statusBody }, 400: invalid, 404: notFound },
      handle: async ({ params, body, caller }: ApiCall<unknown, z.output<typeof statusRequest>>) => {
        const result = await services.changeStatus(Number(params.number), body.status, caller!.name);
        return {
          status: 200,
          body: { ticket: result.ticketNumber, from: result.from, status: result.status, changed: result.from !== result.status, tags: result.tags, deliveryIds: result.deliveryIds },
        };
      },
    },
    {
      method: 'POST',
      path: '/tickets/{number}/tags',
      params: ticketNumber,
      role: 'agent',
      summary: 'Add and remove tags; an event per tag that changed, with the token\'s name.',
      body: tagsRequest,
      responses: { 200: { description: 'the tags now', schema: tagsBody }, 400: invalid, 404: notFound },
      handle: async ({ params, body, caller }: ApiCall<unknown, z.output<typeof tagsRequest>>) => {
        const result = await services.changeTags(Number(params.number), body.add, body.remove, caller!.name);
        return { status: 200, body: { ticket: result.ticketNumber, tags: result.tags } };
      },
    },
    {
      method: 'POST',
      path: '/tickets/{number}/replies',
      params: ticketNumber,
      role: 'agent',
      summary: "An agent's reply to the requester (and cc), threaded in the customer's client; status default: the rules' on_agent_reply.",
      body: replyRequest,
      responses: { 201: { description: 'queued', schema: replyBody }, 400: invalid, 404: notFound },
      handle: async ({ params, body, caller }: ApiCall<unknown, z.output<typeof replyRequest>>) => {
        const result = await services.reply(Number(params.number), { ...body, by: caller!.name });
        return { status: 201, body: { ticket: result.ticketNumber, deliveryId: result.deliveryId, messageId: result.messageId, status: result.status } };
      },
    },
    {
      method: 'POST',
      path: '/tickets/{number}/notes',
      params: ticketNumber,
      role: 'agent',
      summary: "An internal note for agents, under the token's name: shown on the ticket, never mailed; the status stays, updatedAt moves.",
      body: noteRequest,
      responses: { 201: { description: 'added', schema: noteBody }, 400: invalid, 404: notFound },
      handle: async ({ params, body, caller }: ApiCall<unknown, z.output<typeof noteRequest>>) => {
        const note = await services.addNote(Number(params.number), body.text, caller!.name);
        return { status: 201, body: { ticket: note.ticketNumber, id: note.id, text: note.text, by: note.by, at: note.at.toISOString() } };
      },
    },
  ];
}
