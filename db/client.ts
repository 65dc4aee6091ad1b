import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres, { type Sql } from 'postgres';
import { boundConnectAttempts, type SocketTarget } from './connect-attempts.js';
import { attachCopyConnections, createCopyConnections } from './copy-connections.js';
import * as schema from './schema.js';
import { createStatementDeadline, type StatementDeadline } from './statement-deadline.js';
import { wrapUnsafe } from './wrap-unsafe.js';

/** The drizzle handle every query module takes; the same type for both drivers. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Round trip to the server; rejects when storage is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres:// URL; without it an embedded PGlite database is opened in `pgliteDir`. */
  url?: string | undefined;
  /** Folder of the embedded database, or `memory://` for a throwaway one. */
  pgliteDir?: string;
  /** @defaultValue 10 */
  poolSize?: number;
  /** Connections kept for COPY alone (db/copy-connections.ts), besides the pool. @defaultValue 4 */
  copyConnections?: number;
  /**
   * PostgreSQL only: a statement of the pool unanswered after this long fails, and a connection
   * that owes an answer and stays silent this long is closed (db/statement-deadline.ts); the
   * server gives up on a statement before that. Omitted: statements may wait for ever.
   */
  statementDeadlineMs?: number;
}

/**
 * A COPY (a spool batch of up to 4 MiB, a 256 KiB chunk, a large message read back) takes
 * milliseconds; one still running after this long is on a connection that has stopped answering,
 * which is then closed so that intake gets a working one.
 */
const COPY_DEADLINE_MS = 15_000;

/**
 * The wait before a connection of the pool tries again, from the pool's failed connects in a row.
 * postgres.js's own grows to 20 s, so that after a ten-second outage the pool sat idle for up to
 * 20 s once the database was back and every query in between waited as long to fail; a second at
 * most (with jitter, so the pool's connections do not retry in step) costs a refused connect a
 * second per connection while the database is down.
 */
function reconnectDelaySeconds(failedInARow: number): number {
  return Math.min(0.05 * 2 ** failedInARow, 1) * (0.5 + Math.random() / 2);
}

function connectionOptions(applicationName: string, deadline: StatementDeadline | null = null) {
  return {
    // Fail fast so SMTP can answer 451 while the sender is still connected.
    connect_timeout: 5,
    backoff: reconnectDelaySeconds,
    idle_timeout: 60,
    onnotice: () => {},
    connection: { application_name: applicationName, ...(deadline ? { statement_timeout: deadline.serverTimeoutMs } : {}) },
    // No array-type fetch on connect: postgres.js 3.4 runs it as a promise nobody handles, so a
    // connection the server ends during it is an unhandled rejection, fatal to the daemon.
    // drizzle parses array columns from their text form itself.
    fetch_types: false,
    ...postgresSocket(deadline),
  };
}

/** Opens PostgreSQL (production) or PGlite (embedded default): same schema, same queries. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.url) {
    const url = options.url;
    const deadline = options.statementDeadlineMs ? createStatementDeadline(options.statementDeadlineMs) : null;
    const client = postgres(url, { ...connectionOptions('mailroom', deadline), max: options.poolSize ?? 10 });
    const copyConnections = createCopyConnections({
      open: () => postgres(url, { ...connectionOptions('mailroom-copy'), max: 1 }),
      size: options.copyConnections ?? 4,
      deadlineMs: COPY_DEADLINE_MS,
    });
    const db = drizzlePostgres(preparingEveryStatement(deadline ? deadline.bound(client) : client), { schema }) as unknown as Db;
    attachCopyConnections(db, copyConnections);
    return {
      db,
      kind: 'postgres',
      ping: async () => {
        await client`select 1`;
      },
      close: async () => {
        deadline?.stop();
        await copyConnections.close();
        await client.end({ timeout: 5 });
      },
    };
  }
  const dir = options.pgliteDir ?? 'memory://';
  if (!dir.startsWith('memory://')) mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
  // Imported here so that a daemon on PostgreSQL never loads PGlite's WASM module (~30 MB RSS).
  const { openPglite } = await import('./pglite.js');
  const { drizzle: drizzlePglite } = await import('drizzle-orm/pglite');
  const client = await openPglite(dir);
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    ping: async () => {
      await client.query('select 1');
    },
    close: () => client.close(),
  };
}

/**
 * The `socket` option of every PostgreSQL client: sockets without Nagle, and a bound on the
 * connections a server accepts and closes unanswered (connect-attempts.ts), watched for silence
 * when the client has a statement deadline. One per client.
 */
export function postgresSocket(deadline: StatementDeadline | null = null): object {
  const open = boundConnectAttempts(connectWithoutNagle);
  // documented in postgres.js's README ("socket: fn returning custom socket to use"), not in its typings
  return { socket: deadline ? deadline.watchSockets(open) : open };
}

/**
 * The pool's sockets with TCP_NODELAY. A binary COPY (db/binary-copy.ts) ends with a small
 * CopyDone right after its data; with Nagle's algorithm that write waits for the server's delayed
 * ACK (40 ms on Linux) and every spool write would take that long. postgres.js starts the
 * connection on the socket it is given, so this only opens it (the URL's first host, or its
 * Unix socket folder).
 */
function connectWithoutNagle(options: SocketTarget): net.Socket {
  const socket = options.path ? net.connect(options.path) : net.connect({ host: options.host[0]!, port: options.port[0]! });
  socket.setNoDelay(true);
  return socket;
}

/**
 * drizzle sends its queries unnamed, so PostgreSQL parses and plans every statement anew; the
 * daemon runs the same few dozen statements for every message, so this asks postgres.js to
 * prepare each one once per connection (it keys them by their text), in transactions too. COPY
 * still goes as a simple query (postgres.js switches a COPY stream to the simple protocol).
 */
function preparingEveryStatement(sql: Sql): Sql {
  return wrapUnsafe(sql, (unsafe) => ((query: string, parameters?: unknown[], options?: object) => unsafe(query, parameters as never, { ...options, prepare: true })) as Sql['unsafe']);
}
