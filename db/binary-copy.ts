import { once } from 'node:events';
import { Readable, Stream, Writable } from 'node:stream';
import type { Sql } from 'postgres';
import type { Db } from './client.js';
import { copyConnectionsOf } from './copy-connections.js';

/**
 * PostgreSQL's binary COPY format (https://www.postgresql.org/docs/current/sql-copy.html, "Binary
 * Format"): the spool's bytes go to the server as they are. The `postgres` driver sends a bytea
 * parameter as hex text, which doubles the bytes to build, send and parse, and leaves two
 * short-lived copies of every message on the heap.
 */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const HEADER = Buffer.concat([SIGNATURE, Buffer.alloc(8)]); // flags 0, no header extension
const TRAILER = Buffer.from([0xff, 0xff]);
/** Microseconds between the Unix epoch and PostgreSQL's (2000-01-01 UTC). */
const PG_EPOCH_MS = 946_684_800_000;
const TEXT_OID = 25;
/** Small pieces are gathered into writes of about this size; larger ones go as they are. */
const WRITE_BYTES = 64 * 1024;

/** Runs work that issues COPY statements on a connection that nothing else writes to meanwhile. */
export type CopyRunner = <T>(work: (sql: Sql) => Promise<T>) => Promise<T>;

/**
 * Where COPY may run for this handle, or null on PGlite (which has no COPY stream). Inside a
 * transaction that is the transaction's own connection (drizzle's `session.client`), which only
 * the transaction's awaited statements use; on the pool it is one of the dedicated COPY
 * connections (db/copy-connections.ts), never a pooled one that other queries can be pipelined on.
 */
export function copyRunnerOf(db: Db): CopyRunner | null {
  const handle = db as unknown as { $client?: unknown; session?: { client?: unknown } };
  if (handle.$client !== undefined) {
    if (!isPostgresClient(handle.$client)) return null;
    const connections = copyConnectionsOf(db);
    if (!connections) throw new Error('this database handle has no COPY connections (open it with openDatabase)');
    return (work) => connections.run(work);
  }
  const transaction = handle.session?.client;
  if (!isPostgresClient(transaction)) return null;
  return (work) => work(transaction);
}

// postgres.js's `sql` (and its transaction `sql`) has `unsafe`; PGlite has not
function isPostgresClient(client: unknown): client is Sql {
  return typeof (client as { unsafe?: unknown } | undefined)?.unsafe === 'function';
}

export type CopyField =
  | { int8: number }
  | { int4: number }
  | { bool: boolean }
  | { text: string | null }
  | { textArray: string[] }
  | { timestamptz: Date }
  /** One bytea value, given in pieces so that nothing has to be concatenated first. */
  | { bytea: Buffer[] };

/** Encodes rows in the binary COPY format as a list of buffers (bytea pieces are not copied). */
export function encodeCopyRows(rows: CopyField[][]): Buffer[] {
  const out: Buffer[] = [HEADER];
  for (const row of rows) {
    const count = Buffer.allocUnsafe(2);
    count.writeInt16BE(row.length);
    out.push(count);
    for (const field of row) out.push(...encodeField(field));
  }
  out.push(TRAILER);
  return out;
}

function withLength(value: Buffer): Buffer[] {
  const length = Buffer.allocUnsafe(4);
  length.writeInt32BE(value.length);
  return [length, value];
}

function encodeField(field: CopyField): Buffer[] {
  if ('int8' in field) {
    const value = Buffer.allocUnsafe(8);
    value.writeBigInt64BE(BigInt(field.int8));
    return withLength(value);
  }
  if ('int4' in field) {
    const value = Buffer.allocUnsafe(4);
    value.writeInt32BE(field.int4);
    return withLength(value);
  }
  if ('bool' in field) return withLength(Buffer.from([field.bool ? 1 : 0]));
  if ('text' in field) {
    if (field.text === null) return [Buffer.from([0xff, 0xff, 0xff, 0xff])];
    return withLength(Buffer.from(field.text, 'utf8'));
  }
  if ('timestamptz' in field) {
    const value = Buffer.allocUnsafe(8);
    value.writeBigInt64BE(BigInt(field.timestamptz.getTime() - PG_EPOCH_MS) * 1000n);
    return withLength(value);
  }
  if ('textArray' in field) {
    // one dimension, no NULLs, element type text, lower bound 1, then each element with its length
    const head = Buffer.allocUnsafe(20);
    head.writeInt32BE(1, 0);
    head.writeInt32BE(0, 4);
    head.writeInt32BE(TEXT_OID, 8);
    head.writeInt32BE(field.textArray.length, 12);
    head.writeInt32BE(1, 16);
    const parts = [head, ...field.textArray.flatMap((element) => withLength(Buffer.from(element, 'utf8')))];
    return withLength(Buffer.concat(parts));
  }
  const size = field.bytea.reduce((sum, piece) => sum + piece.length, 0);
  const length = Buffer.allocUnsafe(4);
  length.writeInt32BE(size);
  return [length, ...field.bytea];
}

/**
 * One COPY statement, watched from the first byte to the server's ReadyForQuery. postgres.js 3.4
 * settles the query's promise with the stream, so what comes after reaches only the query's own
 * resolve/reject, which are hooked here: the second resolve (the result, at ReadyForQuery) is the
 * end of the COPY, and a reject after the stream was handed out is an error no stream event
 * reports. The stream gets its error listener the moment postgres.js creates it: postgres.js can
 * destroy it with the server's error before the caller's await resumes, and an 'error' event
 * nobody listens to is an uncaught exception that takes the process down.
 */
function watchCopy<S extends Stream>(sql: Sql, statement: string, direction: 'in' | 'out'): { stream: Promise<S>; done: Promise<void> } {
  const query = sql.unsafe(statement);
  let complete: () => void = () => undefined;
  let fail: (err: unknown) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    complete = resolve;
    fail = reject;
  });
  done.catch(() => undefined); // awaited by the caller; a failure before that is not unhandled
  const internals = query as unknown as { resolve: (value: unknown) => void; reject: (err: unknown) => void };
  const { resolve, reject } = internals;
  internals.resolve = (value) => {
    if (value instanceof Stream) {
      value.on('error', fail);
      if (value instanceof Writable) withoutTrailingCopyFail(value);
    } else {
      complete();
    }
    resolve(value);
  };
  internals.reject = (err) => {
    fail(err);
    reject(err);
  };
  // an error before the stream exists rejects the query, and so both of these
  const stream = (direction === 'in' ? query.writable() : query.readable()) as Promise<unknown> as Promise<S>;
  return { stream, done };
}

/**
 * postgres.js 3.4 sends CopyFail from its stream's destroy, which Node also calls after a
 * successful finish (autoDestroy) with no error: a stray "CopyFail: null" that a later COPY on the
 * same connection receives as its own, failing with "COPY from stdin failed: null". A real
 * abort (destroy with an error) still sends CopyFail.
 */
function withoutTrailingCopyFail(stream: Writable): void {
  const internal = stream as unknown as { _destroy: (err: Error | null, callback: (err?: Error | null) => void) => void };
  const destroy = internal._destroy;
  internal._destroy = function (err, callback) {
    if (err) destroy.call(this, err, callback);
    else callback(null);
  };
}

/**
 * Runs `COPY table (columns) FROM STDIN (FORMAT binary)` with these rows as one statement, on a
 * connection the caller owns (see copyRunnerOf). Resolves once the server has answered it. The
 * rows may still be on their way from a statement sent just before on the same connection: the
 * COPY statement then goes out with it, and the rows are awaited only once the COPY is open.
 */
export async function copyRows(sql: Sql, table: string, columns: string[], rows: CopyField[][] | Promise<CopyField[][]>): Promise<void> {
  const copy = watchCopy<Writable>(sql, `copy ${table} (${columns.join(', ')}) from stdin (format binary)`, 'in');
  let stream: Writable;
  let ready: CopyField[][];
  try {
    [stream, ready] = await Promise.all([copy.stream, rows]);
  } catch (err) {
    // Rows that never came leave a COPY the server may have opened: end it with CopyFail.
    copy.stream.then((opened) => opened.destroy(err instanceof Error ? err : new Error(String(err))), () => undefined);
    throw err;
  }
  const write = async (piece: Buffer): Promise<void> => {
    if (!stream.write(piece)) await Promise.race([once(stream, 'drain'), copy.done]);
  };
  let small: Buffer[] = [];
  let smallBytes = 0;
  const flushSmall = async (): Promise<void> => {
    if (smallBytes === 0) return;
    const joined = small.length === 1 ? small[0]! : Buffer.concat(small, smallBytes);
    small = [];
    smallBytes = 0;
    await write(joined);
  };
  try {
    for (const piece of encodeCopyRows(ready)) {
      if (piece.length >= WRITE_BYTES) {
        await flushSmall();
        await write(piece);
        continue;
      }
      small.push(piece);
      smallBytes += piece.length;
      if (smallBytes >= WRITE_BYTES) await flushSmall();
    }
    await flushSmall();
  } catch (err) {
    // CopyFail with a reason: the server ends the COPY, and statements sent after it stay in step
    stream.destroy(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
  stream.end();
  await copy.done;
}

/**
 * The bytes of a one-column bytea result of `COPY (query) TO STDOUT (FORMAT binary)`, all values
 * one after the other, handed to `sink` in the pieces they arrive in (a piece may share memory
 * with the socket's buffer: copy what you keep). Runs on a connection the caller owns (see
 * copyRunnerOf). The sink must not wait: postgres.js 3.4 pauses the connection's socket when the
 * stream's buffer fills and resumes it only on the next read, which never comes once the COPY
 * has ended, leaving the connection deaf; read synchronously in flowing mode, its buffer never fills.
 */
export async function copyOutBytea(sql: Sql, query: string, sink: (piece: Buffer) => void): Promise<void> {
  const copy = watchCopy<Readable>(sql, `copy (${query}) to stdout (format binary)`, 'out');
  const stream = await copy.stream;
  const decoder = createByteaDecoder(sink);
  const decoded = new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk);
      } catch (err) {
        reject(err);
      }
    });
    stream.once('end', () => {
      try {
        decoder.end();
        resolve();
      } catch (err) {
        reject(err);
      }
    });
  });
  // whichever fails first ends the wait; a bad stream is not read to its end (the runner discards the connection)
  await Promise.all([decoded, copy.done]);
}

/** Splits a binary COPY stream of one bytea column into the bytes of its values. */
function createByteaDecoder(sink: (piece: Buffer) => void) {
  let fixed = Buffer.alloc(0); // bytes of a header, field count or length not yet complete
  let phase: 'header' | 'extension' | 'count' | 'length' | 'data' | 'done' = 'header';
  let need = HEADER.length; // bytes the current phase still wants
  return {
    push(chunk: Buffer): void {
      let at = 0;
      while (at < chunk.length && phase !== 'done') {
        if (phase === 'data') {
          const take = Math.min(need, chunk.length - at);
          sink(chunk.subarray(at, at + take));
          at += take;
          need -= take;
          if (need === 0) [phase, need] = ['count', 2];
          continue;
        }
        const take = Math.min(need - fixed.length, chunk.length - at);
        fixed = Buffer.concat([fixed, chunk.subarray(at, at + take)]);
        at += take;
        if (fixed.length < need) continue;
        const field = fixed;
        fixed = Buffer.alloc(0);
        if (phase === 'header') {
          if (!field.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error('COPY: not a binary COPY stream');
          const extension = field.readInt32BE(15);
          [phase, need] = extension > 0 ? ['extension', extension] : ['count', 2];
        } else if (phase === 'extension') {
          [phase, need] = ['count', 2];
        } else if (phase === 'count') {
          const count = field.readInt16BE(0);
          if (count === -1) phase = 'done';
          else if (count !== 1) throw new Error(`COPY: expected one column, got ${count}`);
          else [phase, need] = ['length', 4];
        } else {
          const length = field.readInt32BE(0);
          if (length < 0) throw new Error('COPY: NULL bytea');
          [phase, need] = length === 0 ? ['count', 2] : ['data', length];
        }
      }
    },
    end(): void {
      if (phase !== 'done') throw new Error('COPY: stream ended early');
    },
  };
}
