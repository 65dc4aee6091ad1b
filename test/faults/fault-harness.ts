import { startTestDns } from '../helpers/dns-server.js';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inArray, like, sql } from 'drizzle-orm';
import { flushRedisDb, ownRedisDb } from '../helpers/queue-keys.js';
import postgres from 'postgres';
import { expect } from 'vitest';
import { openDatabase, type Db } from '../../db/client.js';
import { loadInboundRaw } from '../../db/inbound.js';
import { articles, inboundMessages } from '../../db/schema.js';
import { BIN, type DaemonProcess } from '../helpers/daemon-process.js';
import { freePort, type LoadMail, type LoadResult } from '../helpers/load-client.js';
import { databaseUrl, realMode, TEMPLATE_DATABASE } from '../helpers/mode.js';
import { FIXTURES, TEST_SECRET } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

export const FINAL_STATES = ['processed', 'ignored', 'failed', 'suspended'] as const;
/** A daemon that has not logged app.started by then is killed and the start fails. */
const START_TIMEOUT_MS = 30_000;

/**
 * Like startDaemonProcess, but a daemon that does not start in time is killed rather than left
 * running after the test, and its stderr and last log lines go into the error.
 */
export async function spawnDaemon(env: Record<string, string>, timeoutMs: number): Promise<DaemonProcess & { stderr(): string }> {
  const child = spawn(process.execPath, [BIN, 'start'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logLines: Array<Record<string, unknown>> = [];
  let stderr = '';
  let buffered = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  let onStarted: ((line: Record<string, unknown>) => void) | null = null;
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffered.indexOf('\n')) !== -1) {
      const text = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // Not pino's JSON (a warning from node or tsx): kept, so nothing the daemon says is lost.
        line = { event: 'test.unparsed_stdout', text };
      }
      logLines.push(line);
      if (line.event === 'app.started') onStarted?.(line);
    }
  });
  const started = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      const tail = logLines.slice(-5).map((l) => JSON.stringify(l).slice(0, 300));
      reject(new Error(`daemon did not log app.started within ${timeoutMs} ms (killed it); stderr: ${stderr.slice(-2000)}; last log lines: ${tail.join(' | ') || 'none'}`));
    }, timeoutMs);
    onStarted = (line) => {
      clearTimeout(timer);
      resolve(line);
    };
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code} before starting; stderr: ${stderr.slice(-2000)}`));
    });
  });
  return {
    child,
    smtpPort: Number(started.smtpPort),
    httpPort: Number(started.httpPort),
    logLines,
    stderr: () => stderr,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

export interface DaemonHarnessOptions {
  /**
   * Redis database of this file (real mode). BullMQ's prefix cannot be set on a process, so each
   * file that spawns daemons gets a database of its own, flushed before and after. Not 0.
   */
  redisDb: number;
  env?: Record<string, string>;
  /** Routes the daemon's Redis traffic, e.g. through a proxy the test can cut. */
  redisPort?: number;
}

/** A `mailroom start` process the test can kill and start again on the same data and port. */
export interface DaemonHarness {
  env: Record<string, string>;
  /** Fixed, so senders find the daemon again after a restart, as MTAs would. */
  smtpPort: number;
  dataDir: string;
  /** Direct URL of this test's database (real mode), or null (PGlite in dataDir). */
  databaseUrl: string | null;
  /** The running process, if any. */
  readonly daemon: DaemonProcess | null;
  /** Every process started so far, for their logs. */
  lives: DaemonProcess[];
  start(): Promise<DaemonProcess>;
  /** Sends `signal` and waits for the exit code (null when killed by a signal). */
  signal(signal: NodeJS.Signals): Promise<number | null>;
  /** Spool rows not yet finished (received or processing), asked of the running daemon's database. */
  unfinishedRows(): Promise<number>;
  /** Opens the database from the test. Embedded mode: only while no daemon runs (PGlite is single-process). */
  withDb<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  /** The signals the test sent to one life. */
  signalsSentTo(life: DaemonProcess): NodeJS.Signals[];
  /** Log lines of every life with this event. */
  events(name: string): Array<Record<string, unknown>>;
  cleanup(): Promise<void>;
}

export async function createDaemonHarness(options: DaemonHarnessOptions): Promise<DaemonHarness> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mailroom-fault-'));
  const smtpPort = await freePort();
  const dns = await startTestDns();
  const env: Record<string, string> = {
    MAILROOM_DNS_SERVERS: dns.address,
    MAILROOM_DATA_DIR: dataDir,
    MAILROOM_SMTP_PORT: String(smtpPort),
    MAILROOM_HTTP_PORT: '0',
    MAILROOM_HOSTNAME: 'mailroom.test',
    MAILROOM_LOG_LEVEL: 'info',
    // Load from 127.0.0.1 stands for a relay in front of mailroom: exempt from per-client limits.
    MAILROOM_TRUSTED_RELAYS: '127.0.0.1/32',
    // No templates: no outbound mail is involved in these scenarios.
    MAILROOM_CONFIG: path.join(FIXTURES, 'rules', 'helpdesk.yaml'),
  };
  let dbName: string | null = null;
  let dbUrl: string | null = null;
  let redisUrl: string | null = null;
  if (realMode) {
    redisUrl = await ownRedisDb(options.redisDb);
    dbName = `mailroom_fault_${randomBytes(5).toString('hex')}`;
    const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${dbName} template ${TEMPLATE_DATABASE}`).finally(() => admin.end());
    dbUrl = databaseUrl(dbName);
    const daemonRedis = new URL(redisUrl);
    if (options.redisPort) {
      daemonRedis.hostname = '127.0.0.1';
      daemonRedis.port = String(options.redisPort);
    }
    Object.assign(env, { DATABASE_URL: dbUrl, REDIS_URL: daemonRedis.toString(), MAILROOM_SECRET: TEST_SECRET, MAILROOM_OUTBOUND: options.env?.MAILROOM_SMTP_RELAY ? 'relay' : 'outbox' });
  }
  Object.assign(env, options.env);

  let current: DaemonProcess | null = null;
  const lives: DaemonProcess[] = [];
  const signalsSent = new Map<DaemonProcess, NodeJS.Signals[]>();
  let liveDb: { db: Db; close(): Promise<void> } | null = null;
  const realDb = async (): Promise<Db> => {
    liveDb ??= await openDatabase({ url: dbUrl!, poolSize: 2 });
    return liveDb.db;
  };

  const harness: DaemonHarness = {
    env,
    smtpPort,
    dataDir,
    databaseUrl: dbUrl,
    get daemon() {
      return current;
    },
    lives,
    async start() {
      if (current) throw new Error('a daemon is already running');
      current = await spawnDaemon(env, START_TIMEOUT_MS);
      lives.push(current);
      const started = current;
      started.child.once('exit', () => {
        if (current === started) current = null;
      });
      return started;
    },
    async signal(signal) {
      const running = current;
      if (!running) throw new Error('no daemon is running');
      const exited = new Promise<number | null>((resolve) => running.child.once('exit', (code) => resolve(code)));
      signalsSent.set(running, [...(signalsSent.get(running) ?? []), signal]);
      running.child.kill(signal);
      const code = await exited;
      current = null;
      return code;
    },
    async unfinishedRows() {
      if (realMode) return unfinishedRowCount(await realDb());
      let total = 0;
      for (const state of ['received', 'processing']) {
        const out = await runInDaemon(harness, ['inbound', 'list', '--state', state, '--limit', '100000', '--json']);
        total += (JSON.parse(out) as { inbound: unknown[] }).inbound.length;
      }
      return total;
    },
    async withDb(fn) {
      if (realMode) return fn(await realDb());
      if (current) throw new Error('embedded mode: stop the daemon before opening its database');
      const database = await openDatabase({ pgliteDir: path.join(dataDir, 'pglite') });
      try {
        return await fn(database.db);
      } finally {
        await database.close();
      }
    },
    signalsSentTo(life) {
      return signalsSent.get(life) ?? [];
    },
    events(name) {
      return lives.flatMap((life) => life.logLines.filter((line) => line.event === name));
    },
    async cleanup() {
      if (current && current.child.exitCode === null) await harness.signal('SIGKILL');
      await liveDb?.close();
      liveDb = null;
      if (dbName) {
        const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
        await admin.unsafe(`drop database if exists ${dbName} with (force)`).finally(() => admin.end());
      }
      if (redisUrl) await flushRedisDb(redisUrl);
      rmSync(dataDir, { recursive: true, force: true });
      await dns.close();
    },
  };
  return harness;
}

/** Spool rows received or processing. */
export async function unfinishedRowCount(db: Db): Promise<number> {
  const rows = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(inboundMessages)
    .where(inArray(inboundMessages.state, ['received', 'processing']));
  return rows[0]!.n;
}


/** Runs a CLI command inside the running embedded daemon (what `mailroom …` forwards to it). */
export async function runInDaemon(h: DaemonHarness, argv: string[]): Promise<string> {
  const daemon = h.daemon;
  if (!daemon) throw new Error('no daemon is running');
  const info = JSON.parse(readFileSync(path.join(h.dataDir, 'daemon.json'), 'utf8')) as { token: string };
  const response = await fetch(`http://127.0.0.1:${daemon.httpPort}/internal/cli`, {
    method: 'POST',
    headers: { authorization: `Bearer ${info.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ argv }),
  });
  if (!response.ok) throw new Error(`daemon refused ${argv.join(' ')}: HTTP ${response.status}`);
  let out = '';
  let exit = -1;
  for (const line of (await response.text()).split('\n')) {
    if (!line) continue;
    const frame = JSON.parse(line) as { out?: string; err?: string; exit?: number };
    out += frame.out ?? '';
    if (frame.exit !== undefined) exit = frame.exit;
  }
  if (exit !== 0) throw new Error(`${argv.join(' ')} exited ${exit}`);
  return out;
}

/** Waits until the running daemon has finished every spool row. */
export async function waitForSpoolDrained(h: DaemonHarness, timeoutMs: number): Promise<number> {
  const started = Date.now();
  let last = -1;
  await waitFor(
    async () => {
      last = await h.unfinishedRows();
      return last === 0;
    },
    `every spool row to finish (last count: ${String(last)})`,
    timeoutMs,
  );
  return Date.now() - started;
}

export interface DeliveryReport {
  accepted: number;
  spoolRows: number;
  articles: number;
  states: Record<string, number>;
  duplicatesIgnored: number;
  retriedMails: number;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * The no-loss, no-duplicate check after a load: every mail that got 250 is in the spool under
 * the id its 250 named, byte-exact, finished; and it is exactly one article. Rows of this run
 * that never got a 250 (the reply was lost to a crash) are finished too, and at most duplicates.
 */
export async function assertEveryAcceptedMailStoredOnce(db: Db, load: LoadResult, runPrefix: string): Promise<DeliveryReport> {
  expect(load.mails.filter((m) => m.rejected).map((m) => `${m.index}: ${m.lastReply}`), 'mails refused for good').toEqual([]);
  expect(load.unfinished().map((m) => `${m.index}: ${m.lastReply}`), 'mails never accepted before the deadline').toEqual([]);
  const accepted = load.accepted();
  const acceptedIds = accepted.map((m) => m.spoolId);
  expect(acceptedIds.every((id) => id !== null), 'every 250 names a spool id').toBe(true);
  expect(new Set(acceptedIds).size, 'each 250 names a different spool row').toBe(accepted.length);

  const rows = await db
    .select({
      id: inboundMessages.id,
      state: inboundMessages.state,
      reason: inboundMessages.stateReason,
      error: inboundMessages.lastError,
      sha256: inboundMessages.sha256,
      sizeBytes: inboundMessages.sizeBytes,
      articleId: inboundMessages.articleId,
    })
    .from(inboundMessages);
  const byId = new Map(rows.map((row) => [row.id, row]));
  const articleRows = await db
    .select({ id: articles.id, messageId: articles.messageId, inboundId: articles.inboundId })
    .from(articles)
    .where(like(articles.messageId, `${runPrefix}%`));
  const articlesById = new Map(articleRows.map((a) => [a.id, a]));
  const perMessageId = new Map<string, number>();
  for (const a of articleRows) perMessageId.set(a.messageId!, (perMessageId.get(a.messageId!) ?? 0) + 1);

  const problems: string[] = [];
  const describe = (m: LoadMail, what: string) => problems.push(`mail ${m.index} (<${m.messageId}>, spool ${m.spoolId}): ${what}`);
  for (const mail of accepted) {
    const row = byId.get(mail.spoolId!);
    if (!row) {
      describe(mail, 'no spool row with the id of its 250');
      continue;
    }
    if (row.sha256 !== sha256(mail.raw) || row.sizeBytes !== mail.raw.length) describe(mail, `spool row bytes differ (${row.sizeBytes} bytes, sha ${row.sha256.slice(0, 12)})`);
    if (!(FINAL_STATES as readonly string[]).includes(row.state)) describe(mail, `spool row still ${row.state}`);
    if (row.state === 'processed' && articlesById.get(row.articleId ?? -1)?.messageId !== mail.messageId) describe(mail, `processed row points at article ${row.articleId}, not this mail`);
    if (row.state === 'ignored' && !/^duplicate of article \d+/.test(row.reason ?? '')) describe(mail, `ignored: ${row.reason}`);
    if (row.state === 'failed') describe(mail, `failed: ${row.error}`);
    const count = perMessageId.get(mail.messageId) ?? 0;
    if (count !== 1) describe(mail, `${count} articles`);
  }
  const acceptedMessageIds = new Set(accepted.map((m) => m.messageId));
  for (const a of articleRows) if (!acceptedMessageIds.has(a.messageId!)) problems.push(`article ${a.id} <${a.messageId}> was never acknowledged`);
  for (const row of rows) {
    if (row.state === 'receiving' && acceptedIds.includes(row.id)) problems.push(`spool row ${row.id} acknowledged but still receiving`);
    else if (row.state !== 'receiving' && !(FINAL_STATES as readonly string[]).includes(row.state)) problems.push(`spool row ${row.id} left ${row.state}`);
  }
  const failedRows = rows.filter((row) => row.state === 'failed');
  for (const row of failedRows) {
    const [full] = await db.select().from(inboundMessages).where(inArray(inboundMessages.id, [row.id]));
    const raw = await loadInboundRaw(db, full!);
    if (sha256(raw) !== row.sha256) problems.push(`failed spool row ${row.id} lost its raw bytes`);
  }
  expect(problems.slice(0, 30), `${problems.length} problem(s)`).toEqual([]);

  const states: Record<string, number> = {};
  for (const row of rows) states[row.state] = (states[row.state] ?? 0) + 1;
  return {
    accepted: accepted.length,
    spoolRows: rows.length,
    articles: articleRows.length,
    states,
    duplicatesIgnored: rows.filter((row) => row.state === 'ignored' && /^duplicate/.test(row.reason ?? '')).length,
    retriedMails: load.mails.filter((m) => m.attempts > 1).length,
  };
}

/**
 * The intake half of the no-loss check, without waiting for processing: every mail that got 250
 * is the spool row its 250 named, byte-exact, and no other row holds the same bytes (each mail of
 * a load is unique, so a second row would be a second copy).
 */
export async function assertEveryAcceptedMailSpooledOnce(db: Db, load: LoadResult): Promise<{ spooled: number }> {
  const accepted = load.accepted();
  const shas = accepted.map((mail) => sha256(mail.raw));
  const rows = await db
    .select({ id: inboundMessages.id, sha256: inboundMessages.sha256, sizeBytes: inboundMessages.sizeBytes, state: inboundMessages.state })
    .from(inboundMessages)
    .where(inArray(inboundMessages.sha256, shas));
  const bySha = new Map<string, typeof rows>();
  for (const row of rows) bySha.set(row.sha256, [...(bySha.get(row.sha256) ?? []), row]);
  const problems: string[] = [];
  accepted.forEach((mail, i) => {
    const copies = bySha.get(shas[i]!) ?? [];
    if (copies.length !== 1) problems.push(`mail ${mail.index} (spool ${mail.spoolId}): ${copies.length} spool rows hold its bytes`);
    else if (copies[0]!.id !== mail.spoolId) problems.push(`mail ${mail.index}: its 250 named spool ${mail.spoolId}, its bytes are in ${copies[0]!.id}`);
    else if (copies[0]!.sizeBytes !== mail.raw.length || copies[0]!.state === 'receiving') problems.push(`mail ${mail.index}: spool row ${mail.spoolId} is ${copies[0]!.state} with ${copies[0]!.sizeBytes} bytes`);
  });
  expect(problems.slice(0, 20), `${problems.length} problem(s)`).toEqual([]);
  return { spooled: accepted.length };
}

/**
 * No daemon life ended in the fatal handler (unhandled rejection or uncaught exception), began
 * shutting down without a signal from the test, or exited on its own.
 */
export function expectNoFatal(h: DaemonHarness): void {
  const problems: string[] = [];
  h.lives.forEach((life, index) => {
    const sent = h.signalsSentTo(life);
    for (const line of life.logLines) {
      if (line.event === 'app.fatal') problems.push(`life ${index}: ${JSON.stringify(line).slice(0, 800)}`);
      if (line.event === 'app.stopping' && !sent.includes(line.signal as NodeJS.Signals)) problems.push(`life ${index} stopped by itself: ${JSON.stringify(line).slice(0, 800)}`);
    }
    if (life.child.exitCode !== null && sent.length === 0) problems.push(`life ${index} exited with ${life.child.exitCode} without being signalled`);
  });
  expect(problems, 'daemon lives that crashed or stopped by themselves').toEqual([]);
}

/** One line per scenario for the CI log: counts and timings. */
export function reportScenario(name: string, figures: Record<string, unknown>): void {
  process.stdout.write(`[faults] ${name}: ${JSON.stringify(figures)}\n`);
}
