import type { Sql } from 'postgres';
import { createSilentConnections } from './silent-connections.js';
import { wrapUnsafe } from './wrap-unsafe.js';

/**
 * postgres.js has no deadline for a statement: on a connection whose peer stops answering (a
 * network partition, a proxy or NAT that forgets the flow, a server that froze) a statement waits
 * for ever, and so do the worker that sent it and the transaction it belongs to. The server is
 * told to give up on any statement (lock waits included) well before `deadlineMs`, so:
 *  - a socket that owes an answer and has read nothing for `deadlineMs` is closed, which makes
 *    postgres.js fail everything waiting on it (a transaction's COMMIT or ROLLBACK too) and open
 *    a fresh connection; it is looked for every quarter of the deadline;
 *  - a statement run through `unsafe` (every drizzle query) still unanswered after `deadlineMs`
 *    fails with a StatementDeadlineError, wherever postgres.js lost it.
 */
export interface StatementDeadline {
  /** statement_timeout for the client's connections, in ms. */
  serverTimeoutMs: number;
  /** Wraps the client's socket function so its sockets are watched. */
  watchSockets<T>(open: (target: T) => import('node:net').Socket): (target: T) => import('node:net').Socket;
  /** The client (or a transaction's handle) with the deadline on every statement sent through `unsafe`. */
  bound<T extends Sql>(sql: T): T;
  stop(): void;
}

export class StatementDeadlineError extends Error {
  readonly code = 'STATEMENT_DEADLINE';
}

export function createStatementDeadline(deadlineMs: number): StatementDeadline {
  const silent = createSilentConnections();
  const closeSilent = (): void =>
    silent.closeSilent(deadlineMs, () => new StatementDeadlineError(`PostgreSQL owed an answer on this connection and sent nothing for ${deadlineMs} ms; the connection was closed`));
  const sweep = setInterval(closeSilent, Math.max(50, Math.floor(deadlineMs / 4)));
  sweep.unref();

  const deadlined = <Q extends object>(query: Q): Q =>
    new Proxy(query, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        if (property !== 'then') {
          // postgres.js's modifiers (values(), raw()…) return the query itself: keep the deadline on it
          return (...args: unknown[]) => {
            const result = (value as (...a: unknown[]) => unknown).apply(target, args);
            return result === target ? receiver : result;
          };
        }
        return (onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown) => {
          let timer: NodeJS.Timeout | undefined;
          const deadline = new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              closeSilent();
              reject(new StatementDeadlineError(`PostgreSQL did not answer a statement within ${deadlineMs} ms`));
            }, deadlineMs);
            timer.unref();
          });
          // a postgres.js query is sent when its `then` is first called: here
          const answer = (value as (f: (v: unknown) => unknown) => Promise<unknown>).call(target, (result) => result);
          return Promise.race([answer, deadline])
            .finally(() => clearTimeout(timer))
            .then(onFulfilled, onRejected);
        };
      },
    });

  const bound = <T extends Sql>(sql: T): T => wrapUnsafe(sql, (unsafe) => ((...args: Parameters<Sql['unsafe']>) => deadlined(unsafe(...args))) as Sql['unsafe']);

  return {
    serverTimeoutMs: Math.floor(deadlineMs * 0.75),
    watchSockets: (open) => silent.watch(open),
    bound,
    stop: () => clearInterval(sweep),
  };
}
