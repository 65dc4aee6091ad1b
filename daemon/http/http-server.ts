import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CliIO } from '../cli/context.js';
import type { Logger } from '../logger.js';

export interface Readiness {
  ready: boolean;
  checks: Record<string, { ok: boolean; error?: string }>;
}

export interface HttpDeps {
  host: string;
  port: number;
  logger: Logger;
  readiness: () => Promise<Readiness>;
  /** Runs a forwarded CLI command inside the daemon (embedded mode); null disables the endpoint. */
  runCli: ((argv: string[], io: CliIO) => Promise<number>) | null;
  cliToken: string;
}

export interface HttpServer {
  listen(): Promise<number>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

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

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (req.method === 'GET' && url.pathname === '/readyz') {
      const readiness = await deps.readiness();
      return sendJson(res, readiness.ready ? 200 : 503, readiness);
    }
    if (req.method === 'POST' && url.pathname === '/internal/cli' && deps.runCli) return runForwarded(req, res, deps.runCli);
    return sendJson(res, 404, { error: 'not found' });
  }

  async function runForwarded(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    runCli: (argv: string[], io: CliIO) => Promise<number>,
  ): Promise<void> {
    if (!isAuthorized(req.headers.authorization, deps.cliToken)) return sendJson(res, 401, { error: 'unauthorized' });
    const body = await readBody(req);
    if (body === null) return sendJson(res, 413, { error: 'body too large' });
    let argv: unknown;
    try {
      argv = (JSON.parse(body) as { argv?: unknown }).argv;
    } catch {
      return sendJson(res, 400, { error: 'body must be JSON {"argv": [...]}' });
    }
    if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) return sendJson(res, 400, { error: 'argv must be a list of strings' });
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    // NDJSON frames: {"out": text} | {"err": text} | {"exit": code}
    const io: CliIO = {
      out: (text) => res.write(`${JSON.stringify({ out: text })}\n`),
      err: (text) => res.write(`${JSON.stringify({ err: text })}\n`),
      isTTY: false,
    };
    deps.logger.info({ event: 'cli.forwarded', command: argv.slice(0, 2).join(' ') }, 'running CLI command for the local CLI');
    const code = await runCli(argv as string[], io);
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

async function readBody(req: http.IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk); // keep reading past the cap so the socket stays usable
  }
  return size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}
