import type http from 'node:http';
import type { z } from 'zod';
import { AppError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { roleAllows, type ApiCaller, type ApiRole } from './auth.js';

/** What a handler answers: a status and a JSON body, or null once it has written the response itself (a download). */
export type ApiAnswer = { status: number; body: unknown } | null;

export interface ApiCall<Query = unknown, Body = unknown> {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  params: Record<string, string>;
  query: Query;
  body: Body;
  /** Null only on public routes. */
  caller: ApiCaller | null;
}

export interface ApiResponseSpec {
  description: string;
  /** The JSON body; absent for a download. */
  schema?: z.ZodType;
  contentType?: string;
}

/**
 * One route: what it needs, what it takes, what it answers. The OpenAPI document is built from
 * these same fields (openapi.ts).
 */
export interface ApiRoute {
  method: 'GET' | 'POST' | 'DELETE';
  /** Below /api/v1, OpenAPI style: `/tickets/{number}`. */
  path: string;
  /** `{name: pattern}` for each path parameter. */
  params?: Record<string, { pattern: RegExp; description: string }>;
  /** Null: no token needed. */
  role: ApiRole | null;
  summary: string;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<number, ApiResponseSpec>;
  // Each route's handler knows its own query and body types; the router only passes them on.
  handle(call: ApiCall<any, any>): Promise<ApiAnswer>;
}

/** Most bytes a request body may have (a reply is the largest). */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

/**
 * Dispatches a request below /api/v1 to its route: token and role first (401 before anything is
 * read, so an unauthenticated caller learns nothing about what exists), then query and body
 * validated with the route's schemas (400 listing the problems).
 */
export function createRouter(routes: readonly ApiRoute[], authenticate: (header: string | undefined) => ApiCaller | null, logger: Logger) {
  const compiled = routes.map((route) => {
    const names: string[] = [];
    const source = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      names.push(name);
      return `(${route.params?.[name]?.pattern.source ?? '[^/]+'})`;
    });
    return { route, names, pattern: new RegExp(`^/api/v1${source}$`) };
  });

  return async function handleApiV1(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const matches = compiled.map((c) => ({ ...c, match: c.pattern.exec(url.pathname) })).filter((c) => c.match);
    const found = matches.find((c) => c.route.method === req.method);
    const needsToken = found ? found.route.role !== null : true;
    const caller = authenticate(req.headers.authorization);
    if (needsToken && !caller) return sendJson(res, 401, { error: 'unauthorized: send Authorization: Bearer <token>' });
    if (!found) return sendJson(res, matches.length > 0 ? 405 : 404, { error: matches.length > 0 ? `${req.method ?? ''} is not allowed here` : 'not found' });
    const { route, names, match } = found;
    if (route.role && caller && !roleAllows(caller.role, route.role)) {
      return sendJson(res, 403, { error: `forbidden: this needs the ${route.role} role; the token ${caller.name} has ${caller.role}` });
    }
    const params = Object.fromEntries(names.map((name, i) => [name, match![i + 1]!]));
    try {
      const query = route.query ? route.query.safeParse(Object.fromEntries(url.searchParams)) : { success: true as const, data: {} };
      if (!query.success) return sendJson(res, 400, { error: 'invalid query', problems: problemsOf(query.error) });
      let body: unknown = undefined;
      if (route.body) {
        const text = await readBody(req, MAX_BODY_BYTES);
        if (text === null) return sendJson(res, 413, { error: 'body too large' });
        let json: unknown;
        try {
          json = text.trim() === '' ? {} : JSON.parse(text);
        } catch {
          return sendJson(res, 400, { error: 'the body must be JSON' });
        }
        const parsed = route.body.safeParse(json);
        if (!parsed.success) return sendJson(res, 400, { error: 'invalid body', problems: problemsOf(parsed.error) });
        body = parsed.data;
      }
      const answer = await route.handle({ req, res, params, query: query.data, body, caller });
      if (answer) sendJson(res, answer.status, answer.body);
    } catch (err) {
      if (err instanceof ApiRequestError) return sendJson(res, err.status, { error: err.message });
      if (err instanceof AppError && err.code === 'NOT_FOUND') return sendJson(res, 404, { error: err.message });
      if (err instanceof AppError && err.code === 'RESEND_REFUSED') return sendJson(res, 422, { error: err.message });
      logger.error({ event: 'http.api_failed', err, path: url.pathname }, 'API request failed');
      if (res.headersSent) return void res.destroy();
      return sendJson(res, 503, { error: 'could not complete the request; try again' });
    }
  };
}

/** A request the handler refuses after validation (a cursor that does not fit, say): its status and why. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function problemsOf(error: z.ZodError): Array<{ path: string; message: string }> {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

export async function readBody(req: http.IncomingMessage, maxBytes: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= maxBytes) chunks.push(chunk); // keep reading past the cap so the socket stays usable
  }
  return size > maxBytes ? null : Buffer.concat(chunks).toString('utf8');
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}
