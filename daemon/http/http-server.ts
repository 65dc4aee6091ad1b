import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_FORWARDED_FILE_BYTES, type CliIO } from '../cli/context.js';
import { AppError } from '../errors.js';
import { failuresCsv, failuresJson, parseDateFilter } from '../reports/failures.js';
import type { Logger } from '../logger.js';
import { createApiV1 } from './api/api-v1.js';
import { readBody, sendJson } from './api/router.js';
import type { ApiCaller } from './api/auth.js';
import { replyRequest as replySchema, resendRequest as resendSchema } from './api/schemas.js';
import type { ApiServices } from './api/services.js';

export interface ReadinessCheck {
  ok: boolean;
  error?: string;
  /** The rules check: how the last load of the file went (a rejected edit leaves `ok` true). */
  lastReload?: { ok: boolean; at: string; error?: string };
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, ReadinessCheck>;
}

/** The agents' API: who the bearer tokens are, and the work the daemon supplies. */
export interface AgentApi {
  authenticate: (header: string | undefined) => ApiCaller | null;
  services: ApiServices;
}

export interface HttpDeps {
  host: string;
  port: number;
  logger: Logger;
  readiness: () => Promise<Readiness>;
  /** Prometheus exposition of the daemon's metrics. */
  metrics: () => Promise<{ contentType: string; body: string }>;
  /** Runs a forwarded CLI command inside the daemon (embedded mode); null disables the endpoint. */
  runCli: ((argv: string[], io: CliIO, files: ReadonlyMap<string, Buffer>) => Promise<number>) | null;
  cliToken: string;
  api: AgentApi | null;
  /** The web console at `/`; answers false for paths it does not serve. Null: no console (no API tokens). */
  console?: ((req: http.IncomingMessage, res: http.ServerResponse, url: URL) => Promise<boolean>) | null;
}

export interface HttpServer {
  listen(): Promise<number>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;
/** Bytes per `outBytes` frame of a forwarded command: 1 MiB of base64 a line. */
const FORWARDED_BYTES_PER_FRAME = 768 * 1024;

/** Health, readiness and the local CLI endpoint. */
export function createHttpServer(deps: HttpDeps): HttpServer {
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      deps.logger.error({ event: 'http.error', err, url: req.url }, 'http handler failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.end();
    });
  });
  server.keepAliveTimeout = 5_000;
  const apiV1 = deps.api ? createApiV1(deps.api.services, deps.api.authenticate, deps.logger) : null;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (req.method === 'GET' && url.pathname === '/metrics') {
      const { contentType, body } = await deps.metrics();
      res.writeHead(200, { 'content-type': contentType });
      res.end(body);
      return;
    }
    if (req.method === 'GET' && url.pathname === '/readyz') {
      const readiness = await deps.readiness();
      return sendJson(res, readiness.ready ? 200 : 503, readiness);
    }
    if (req.method === 'POST' && url.pathname === '/internal/cli' && deps.runCli) return runForwarded(req, res, deps.runCli);
    if (url.pathname.startsWith('/api/')) return handleApi(req, res, url);
    if (deps.console && (await deps.console(req, res, url))) return;
    return sendJson(res, 404, { error: 'not found' });
  }

  async function handleApi(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    if (!deps.api || !apiV1) return sendJson(res, 404, { error: 'the API is off: set MAILROOM_API_TOKEN or MAILROOM_API_TOKENS_FILE' });
    if (url.pathname.startsWith('/api/v1/')) return apiV1(req, res, url);
    // The unversioned forms predate roles: they answer admin tokens only.
    const caller = deps.api.authenticate(req.headers.authorization);
    if (!caller) return sendJson(res, 401, { error: 'unauthorized' });
    if (caller.role !== 'admin') return sendJson(res, 403, { error: 'forbidden: the unversioned /api routes need the admin role; use /api/v1' });
    const api = deps.api.services;
    const reply = /^\/api\/tickets\/(\d{1,12})\/replies$/.exec(url.pathname);
    const resend = /^\/api\/deliveries\/(\d{1,12})\/resend$/.exec(url.pathname);
    try {
      if (req.method === 'POST' && resend) {
        const body = await readBody(req, MAX_BODY_BYTES);
        if (body === null) return sendJson(res, 413, { error: 'body too large' });
        let json: unknown;
        try {
          json = body.trim() === '' ? {} : JSON.parse(body);
        } catch {
          return sendJson(res, 400, { error: 'body must be JSON: {"to": "corrected@address", "unsuppress": false, "reason": "..."} (all optional)' });
        }
        const input = resendSchema.safeParse(json);
        if (!input.success) {
          return sendJson(res, 400, { error: 'invalid resend', problems: input.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
        }
        const result = await api.resend(Number(resend[1]), { ...input.data, by: 'api' });
        return sendJson(res, 201, { deliveryId: result.deliveryId, ticket: result.ticketNumber, to: result.to, unsuppressed: result.unsuppressed });
      }
      if (req.method === 'POST' && reply) {
        const body = await readBody(req, 2 * 1024 * 1024);
        if (body === null) return sendJson(res, 413, { error: 'body too large' });
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          return sendJson(res, 400, { error: 'body must be JSON: {"body": "...", "cc": [], "status": "pending"}' });
        }
        const input = replySchema.safeParse(json);
        if (!input.success) {
          return sendJson(res, 400, { error: 'invalid reply', problems: input.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
        }
        const result = await api.reply(Number(reply[1]), input.data);
        return sendJson(res, 201, { ticket: result.ticketNumber, deliveryId: result.deliveryId, messageId: result.messageId, status: result.status });
      }
      if (req.method === 'GET' && url.pathname === '/api/failures') {
        const since = parseDateFilter(url.searchParams.get('since'));
        const until = parseDateFilter(url.searchParams.get('until'));
        const ticket = url.searchParams.get('ticket');
        const format = url.searchParams.get('format') ?? 'json';
        const limit = Number(url.searchParams.get('limit') ?? 10000);
        if (since === 'invalid' || until === 'invalid') return sendJson(res, 400, { error: 'since and until take a date such as 2026-11-21 or 2026-11-21T10:00:00Z' });
        if (ticket !== null && !/^\d{1,12}$/.test(ticket)) return sendJson(res, 400, { error: 'ticket takes a ticket number' });
        if (format !== 'csv' && format !== 'json') return sendJson(res, 400, { error: 'format takes csv or json' });
        if (!Number.isSafeInteger(limit) || limit < 1) return sendJson(res, 400, { error: 'limit takes a positive number' });
        const rows = await api.failures({ since, until, ticketNumber: ticket === null ? undefined : Number(ticket), reason: url.searchParams.get('reason') ?? undefined, limit });
        if (format === 'json') return sendJson(res, 200, failuresJson(rows));
        res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="mailroom-failures.csv"' });
        // A download is for a spreadsheet: byte-order mark unless bom=0.
        res.end(failuresCsv(rows, { bom: url.searchParams.get('bom') !== '0' }));
        return;
      }
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') return sendJson(res, 404, { error: err.message });
      if (err instanceof AppError && err.code === 'RESEND_REFUSED') return sendJson(res, 422, { error: err.message });
      deps.logger.error({ event: 'http.api_failed', err, path: url.pathname }, 'API request failed');
      return sendJson(res, 503, { error: 'could not complete the request; try again' });
    }
    return sendJson(res, 404, { error: 'not found' });
  }

  async function runForwarded(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    runCli: (argv: string[], io: CliIO, files: ReadonlyMap<string, Buffer>) => Promise<number>,
  ): Promise<void> {
    if (!isAuthorized(req.headers.authorization, deps.cliToken)) return sendJson(res, 401, { error: 'unauthorized' });
    // Base64 makes the files a third larger; the argv and framing fit in the rest.
    const body = await readBody(req, Math.ceil((MAX_FORWARDED_FILE_BYTES * 4) / 3) + MAX_BODY_BYTES);
    if (body === null) return sendJson(res, 413, { error: 'body too large' });
    let argv: unknown;
    let tty = false;
    let files: unknown;
    let timeZone: string | undefined;
    try {
      const parsed = JSON.parse(body) as { argv?: unknown; tty?: unknown; files?: unknown; timeZone?: unknown };
      argv = parsed.argv;
      tty = parsed.tty === true;
      timeZone = typeof parsed.timeZone === 'string' ? parsed.timeZone : undefined;
      files = parsed.files ?? {};
    } catch {
      return sendJson(res, 400, { error: 'body must be JSON {"argv": [...], "files": {"path": "base64"}}' });
    }
    if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) return sendJson(res, 400, { error: 'argv must be a list of strings' });
    if (typeof files !== 'object' || files === null || Array.isArray(files) || !Object.values(files).every((f) => typeof f === 'string')) {
      return sendJson(res, 400, { error: 'files must map paths to base64 text' });
    }
    const sent = new Map(Object.entries(files as Record<string, string>).map(([path, base64]) => [path, Buffer.from(base64, 'base64')]));
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    // NDJSON frames: {"out": text} | {"outBytes": base64} | {"err": text} | {"exit": code}
    const io: CliIO = {
      out: (text) => res.write(`${JSON.stringify({ out: text })}\n`),
      // Base64, since JSON text cannot carry 8-bit mail; in pieces, so no frame is a 30 MB line.
      outBytes: (bytes) => {
        for (let at = 0; at < bytes.length; at += FORWARDED_BYTES_PER_FRAME) {
          res.write(`${JSON.stringify({ outBytes: bytes.subarray(at, at + FORWARDED_BYTES_PER_FRAME).toString('base64') })}\n`);
        }
      },
      err: (text) => res.write(`${JSON.stringify({ err: text })}\n`),
      isTTY: tty,
      timeZone,
    };
    deps.logger.info({ event: 'cli.forwarded', command: argv.slice(0, 2).join(' ') }, 'running CLI command for the local CLI');
    const code = await runCli(argv as string[], io, sent);
    res.end(`${JSON.stringify({ exit: code })}\n`);
  }

  return {
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(deps.port, deps.host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function isAuthorized(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ') || token.length === 0) return false;
  const given = Buffer.from(header.slice('Bearer '.length));
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
