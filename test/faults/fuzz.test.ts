import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { removeQueueKeys } from '../helpers/queue-keys.js';
import postgres from 'postgres';
import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertInbound, loadInboundRaw } from '../../db/inbound.js';
import { inboundMessages } from '../../db/schema.js';
import { looksLikeBounce, parseBounce } from '../../parsers/bounce.js';
import { parseMessage } from '../../parsers/message.js';
import { fuzzCase, Rng } from '../helpers/fuzz.js';
import { realMode } from '../helpers/mode.js';
import { waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';
import { FINAL_STATES, reportScenario, unfinishedRowCount } from './fault-harness.js';

/** Fixed so a failure is reproducible: `fuzzCase(SEED, index, corpus)` gives the same bytes again. */
const SEED = 0x6d61696c; // "mail"
const PARSE_CASES = 10_000;
const DAEMON_CASES = 1_000;
/** One hostile message must never take long; generous for a loaded CI machine. */
const MAX_CASE_MS = 5_000;

const CORPUS = new URL('../../../shared/corpus/', import.meta.url);

/** The MIME corpus (core tier: the stress files are parsed by their own suite) and the bounce corpus. */
function loadCorpus(): Buffer[] {
  const manifest = JSON.parse(readFileSync(new URL('mime/manifest.json', CORPUS), 'utf8')) as Array<{ file: string; tier: string }>;
  const files = manifest.filter((entry) => entry.tier === 'core').map((entry) => new URL(`mime/${entry.file}`, CORPUS));
  for (const folder of ['bsd', 'dos', 'not']) {
    const dir = new URL(`bounces/maildir/${folder}/`, CORPUS);
    for (const name of readdirSync(dir).sort()) files.push(new URL(name, dir));
  }
  return files.map((file) => readFileSync(file));
}

const corpus = loadCorpus();

const TIMED_OUT = Symbol('timed out');
/** A promise that never settles (a parser stuck on hostile input) must not stall the whole run. */
async function withinTime<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), ms)));
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The daemon runs in this process: what would crash a daemon process is recorded here. */
const crashes: string[] = [];
const onUnhandled = (reason: unknown): void => void crashes.push(`unhandledRejection: ${reason instanceof Error ? reason.stack : String(reason)}`);
const onUncaught = (err: Error): void => void crashes.push(`uncaughtException: ${err.stack ?? String(err)}`);
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUncaught);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUncaught);
});

describe('seeded mutations of the MIME and bounce corpora', () => {
  it(`parse without throwing, each in under ${MAX_CASE_MS / 1000} s (${PARSE_CASES} mutations through parseMessage and parseBounce)`, async () => {
    expect(corpus.length).toBeGreaterThan(400);
    const problems: string[] = [];
    const ops: Record<string, number> = {};
    let slowest = { ms: 0, index: -1 };
    let unreadable = 0;
    let reports = 0;
    const started = Date.now();
    for (let index = 0; index < PARSE_CASES; index += 1) {
      const sample = fuzzCase(SEED, index, corpus);
      for (const op of sample.ops) ops[op] = (ops[op] ?? 0) + 1;
      const caseStarted = Date.now();
      try {
        const parsed = await withinTime(parseMessage(sample.bytes), MAX_CASE_MS);
        if (parsed === TIMED_OUT) {
          problems.push(`case ${index} (source ${sample.source}, ${sample.ops.join('+')}): parseMessage did not settle within ${MAX_CASE_MS} ms`);
          continue;
        }
        if (parsed.ok) {
          looksLikeBounce(parsed.message.headers, parsed.message.from?.address ?? 'cliente@cliente.es');
        } else {
          unreadable += 1;
          if (typeof parsed.error !== 'string' || parsed.error === '') problems.push(`case ${index}: ok false without an error text`);
        }
        const report = await withinTime(parseBounce(sample.bytes), MAX_CASE_MS);
        if (report === TIMED_OUT) problems.push(`case ${index} (source ${sample.source}, ${sample.ops.join('+')}): parseBounce did not settle within ${MAX_CASE_MS} ms`);
        else if (report !== null) reports += 1;
      } catch (err) {
        problems.push(`case ${index} (source ${sample.source}, ${sample.ops.join('+')}): threw ${(err as Error).stack ?? String(err)}`);
      }
      const ms = Date.now() - caseStarted;
      if (ms > slowest.ms) slowest = { ms, index };
      if (ms > MAX_CASE_MS) problems.push(`case ${index} (source ${sample.source}, ${sample.ops.join('+')}): took ${ms} ms`);
    }
    reportScenario('fuzz: parsers', { seed: SEED, cases: PARSE_CASES, ms: Date.now() - started, slowest, unreadable, reports, ops });
    expect(problems.slice(0, 20), `${problems.length} problem(s)`).toEqual([]);
    expect(crashes).toEqual([]);
  }, 180_000);
});

describe('seeded mutations pushed through the daemon', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Two attempts: a message that breaks processing is marked failed within seconds.
    t = await startTestApp({ env: { MAILROOM_MAX_ATTEMPTS: '2', MAILROOM_LOG_LEVEL: 'info' } });
  });
  afterAll(async () => {
    if (!t) return;
    // A worker stuck on a message that never parses keeps app.stop() waiting; clean up anyway.
    const closed = await withinTime(t.close(), 20_000);
    if (closed === TIMED_OUT) {
      process.stdout.write('[faults] fuzz: the daemon did not stop within 20 s (a job never finished); dropping its database anyway\n');
      if (t.databaseUrl) {
        const name = new URL(t.databaseUrl).pathname.slice(1);
        const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
        await admin.unsafe(`drop database if exists ${name} with (force)`).finally(() => admin.end());
        // startTestApp names the queue prefix after the database: mailroom_t_<suffix>, mrtest-<suffix>.
        await removeQueueKeys(`mrtest-${name.replace(/^mailroom_t_/, '')}`);
      }
      rmSync(t.dataDir, { recursive: true, force: true });
    }
  });

  it(`end processed, ignored or failed, each with its raw bytes kept, and nothing crashes (${DAEMON_CASES} mutations)`, async () => {
    const rng = new Rng(SEED);
    const envelopes = [
      { mailFrom: 'cliente@cliente.es', rcptTo: ['soporte@example.com'] },
      { mailFrom: '', rcptTo: ['soporte@example.com'] },
      { mailFrom: 'MAILER-DAEMON@relay.example', rcptTo: ['support@example.org'] },
      // A bounce address whose token does not verify: recorded as an unmatched report.
      { mailFrom: '', rcptTo: ['bounces+d1-forged0000@example.com'] },
    ];
    const sent = new Map<number, { index: number; sha256: string; size: number; ops: string[] }>();
    const started = Date.now();
    // The daemon-side cases are a different slice of the same seeded stream than the parser cases.
    for (let index = PARSE_CASES; index < PARSE_CASES + DAEMON_CASES; index += 1) {
      const sample = fuzzCase(SEED, index, corpus);
      const envelope = { ...rng.pick(envelopes), clientAddress: '127.0.0.1', clientHelo: 'fuzz.test', tls: false, receivedAt: new Date() };
      const digest = sha256(sample.bytes);
      const id = await insertInbound(t.db, envelope, sample.bytes, digest);
      sent.set(id, { index, sha256: digest, size: sample.bytes.length, ops: sample.ops });
      await t.app.queue.enqueue(id);
    }
    const insertedMs = Date.now() - started;
    // Rows a worker never finishes are reported below with their cases, not as a bare timeout.
    await waitFor(async () => (await unfinishedRowCount(t.db)) === 0, `all ${DAEMON_CASES} rows to finish`, 90_000).catch(() => undefined);
    const processedMs = Date.now() - started;

    const ids = [...sent.keys()];
    const rows = await t.db.select().from(inboundMessages).where(inArray(inboundMessages.id, ids));
    expect(rows).toHaveLength(DAEMON_CASES);
    const problems: string[] = [];
    const states: Record<string, number> = {};
    const failures: Record<string, number> = {};
    const failedCases: string[] = [];
    for (const row of rows) {
      const expected = sent.get(row.id)!;
      const label = `row ${row.id} (case ${expected.index}, ${expected.ops.join('+')})`;
      states[row.state] = (states[row.state] ?? 0) + 1;
      if (!(FINAL_STATES as readonly string[]).includes(row.state)) problems.push(`${label}: ${row.state}`);
      if (row.state === 'failed') {
        const reason = (row.lastError ?? '').replace(/\d+/g, 'N').slice(0, 120);
        failures[reason] = (failures[reason] ?? 0) + 1;
        if (failedCases.length < 10) failedCases.push(`${label}: ${(row.lastError ?? '').slice(0, 200)}`);
      }
      const raw = await loadInboundRaw(t.db, row);
      if (raw.length !== expected.size || sha256(raw) !== expected.sha256 || row.sha256 !== expected.sha256) problems.push(`${label}: raw bytes changed`);
    }
    reportScenario('fuzz: daemon', { mode: realMode ? 'real' : 'embedded', seed: SEED, cases: DAEMON_CASES, insertedMs, processedMs, states, failures, failedCases });
    expect(problems.slice(0, 20), `${problems.length} problem(s)`).toEqual([]);
    expect(crashes, 'what would have crashed a daemon process').toEqual([]);
  }, 240_000);
  it('a message that stalls mailparser (header-only message/rfc822, inline) is processed with its bytes kept, and does not stall the mail behind it', async () => {
    // Found by this fuzzer (minimised): mailparser 3.9.31's simpleParser never settles on it.
    // Any SMTP client can send it; one per worker slot would stop all processing. parseMessage
    // now closes the header block first (and the pipeline has a parse deadline besides).
    const hostile = (n: number) =>
      `From: ana@cliente.es\r\nTo: soporte@example.com\r\nSubject: adjunto ${n}\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n`;
    const hostileIds: number[] = [];
    for (let n = 0; n < t.config.worker.concurrency; n += 1) {
      const sent = await t.send({ from: 'ana@cliente.es', to: ['soporte@example.com'] }, hostile(n));
      expect(sent.code).toBe(250);
      hostileIds.push(queuedId(sent));
    }
    const normal = await t.send({ from: 'pablo@cliente.es', to: ['soporte@example.com'] }, rawMessage({ from: 'pablo@cliente.es', subject: 'detrás de los mensajes hostiles' }));
    expect(normal.code).toBe(250);
    expect((await waitForInbound(t, queuedId(normal), 20_000)).state).toBe('processed');
    for (const [n, id] of hostileIds.entries()) {
      const row = await waitForInbound(t, id, 20_000);
      expect(row.state).toBe('processed');
      expect(row.sizeBytes).toBe(Buffer.byteLength(hostile(n)));
      expect(row.sha256).toBe(sha256(Buffer.from(hostile(n))));
    }
  }, 60_000);
});
