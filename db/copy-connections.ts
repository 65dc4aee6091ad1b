import type { Sql } from 'postgres';

export interface CopyConnectionsOptions {
  /** Opens one connection (a `postgres` client with `max: 1`); called again to replace a discarded one. */
  open: () => Sql;
  /** Connections at most; more work waits for one to come back. */
  size: number;
  /** Waiting for a connection plus the work on it; past this the connection is discarded and the work fails. */
  deadlineMs: number;
}

export interface CopyConnections {
  /**
   * Runs `work` on a connection nothing else uses while it runs. If the work fails, or does not
   * finish within the deadline, that connection is closed and never used again: a COPY that was
   * aborted half-way leaves no protocol state behind for the next statement.
   */
  run<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

interface Waiter {
  give(sql: Sql): void;
  fail(err: Error): void;
  cancelled: boolean;
}

/**
 * The connections that COPY runs on. postgres.js pipelines queries onto a pooled connection
 * that is busy, so a COPY on the shared pool gets other statements written into its data stream
 * (the server answers "unexpected message type during COPY" and drops the connection), and a
 * query handed to that connection while its stream is open fails with COPY_IN_PROGRESS. Here a
 * connection belongs to one piece of work from the COPY statement to the server's final answer.
 */
export function createCopyConnections(options: CopyConnectionsOptions): CopyConnections {
  const idle: Sql[] = [];
  const waiting: Waiter[] = [];
  const live = new Set<Sql>();
  let closed = false;

  const openOne = (): Sql => {
    const sql = options.open();
    live.add(sql);
    return sql;
  };

  const giveBack = (sql: Sql): void => {
    for (let waiter = waiting.shift(); waiter; waiter = waiting.shift()) {
      if (waiter.cancelled) continue;
      waiter.give(sql);
      return;
    }
    idle.push(sql);
  };

  const discard = (sql: Sql): void => {
    if (!live.delete(sql)) return;
    // timeout 0: connections are destroyed at once; an unfinished COPY is sent CopyFail and its query rejected
    sql.end({ timeout: 0 }).catch(() => undefined);
    if (!closed && waiting.some((waiter) => !waiter.cancelled)) giveBack(openOne());
  };

  const acquire = (waiter: Waiter): void => {
    const ready = idle.pop();
    if (ready) return waiter.give(ready);
    if (live.size < options.size) return waiter.give(openOne());
    waiting.push(waiter);
  };

  return {
    run<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
      if (closed) return Promise.reject(new Error('the COPY connections are closed'));
      return new Promise<T>((resolve, reject) => {
        let held: Sql | null = null;
        let settled = false;
        const finish = (): boolean => {
          if (settled) return false;
          settled = true;
          waiter.cancelled = true;
          clearTimeout(timer);
          return true;
        };
        const waiter: Waiter = {
          cancelled: false,
          give(sql) {
            held = sql;
            work(sql).then(
              (value) => {
                // after the deadline the connection is already gone and the caller answered
                if (!finish()) return;
                if (closed) discard(sql);
                else giveBack(sql);
                resolve(value);
              },
              (err: unknown) => {
                discard(sql);
                if (finish()) reject(err);
              },
            );
          },
          fail(err) {
            if (!finish()) return;
            if (held) discard(held);
            reject(err);
          },
        };
        const timer = setTimeout(() => {
          waiter.fail(new Error(held ? `COPY did not finish within ${options.deadlineMs} ms; its connection was closed` : `no COPY connection was free within ${options.deadlineMs} ms`));
        }, options.deadlineMs);
        timer.unref();
        acquire(waiter);
      });
    },
    async close() {
      closed = true;
      for (const waiter of waiting.splice(0)) waiter.fail(new Error('the COPY connections are closed'));
      idle.length = 0;
      const all = [...live];
      live.clear();
      await Promise.all(all.map((sql) => sql.end({ timeout: 5 }).catch(() => undefined)));
    },
  };
}

const copyConnectionsByDb = new WeakMap<object, CopyConnections>();

/** Called by openDatabase: the COPY connections that belong to this drizzle handle's pool. */
export function attachCopyConnections(db: object, connections: CopyConnections): void {
  copyConnectionsByDb.set(db, connections);
}

export function copyConnectionsOf(db: object): CopyConnections | undefined {
  return copyConnectionsByDb.get(db);
}
