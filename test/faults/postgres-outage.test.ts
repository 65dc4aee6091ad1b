import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isKnownDriverGlitch } from '../../daemon/driver-glitch.js';
import { runLoad } from '../helpers/load-client.js';
import { realMode } from '../helpers/mode.js';
import { startDatabaseProxy, viaProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';
import { assertEveryAcceptedMailStoredOnce, reportScenario, unfinishedRowCount } from './fault-harness.js';

const MAILS = 600;
const SESSIONS = 10;

let t: TestApp;
let proxy: TcpProxy | null = null;
/** The daemon runs in this process: what would crash a daemon process is recorded here. */
const crashes: string[] = [];
const onUnhandled = (reason: unknown): void => void crashes.push(`unhandledRejection: ${reason instanceof Error ? reason.stack : String(reason)}`);
// The daemon's main.ts logs and survives this one driver bug (daemon/driver-glitch.ts); so does this test.
const onUncaught = (err: Error): void => void (isKnownDriverGlitch(err) ? undefined : crashes.push(`uncaughtException: ${err.stack ?? String(err)}`));

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUncaught);
  if (realMode) proxy = await startDatabaseProxy();
  t = await startTestApp({
    env: { MAILROOM_LOG_LEVEL: 'info' },
    // Real mode: every database connection of the daemon goes through a proxy the test can cut.
    rewriteDatabaseUrl: (url) => viaProxy(url, proxy!),
  });
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUncaught);
  await t?.close();
  await proxy?.close();
});

interface Failure {
  fail: () => Promise<void>;
  heal: () => Promise<void>;
  /** How long storage stays broken while the load goes on. */
  forMs: number;
  /** The /readyz check that must fail while storage is broken. */
  failingCheck: 'intake' | 'database';
}

/**
 * Embedded mode has no server to lose: the nearest failure is a database that refuses the spool
 * write (as a full disk would). Real mode also cuts PostgreSQL off entirely.
 */
const failures: Array<[string, Failure]> = [
  [
    'refuses every spool write for 5 s',
    {
      forMs: 5_000,
      failingCheck: 'intake',
      fail: async () => {
        await t.db.execute(sql`create or replace function mailroom_fault_refuse() returns trigger language plpgsql as $$ begin raise exception 'disk full (fault test)'; end $$`);
        await t.db.execute(sql`create trigger mailroom_fault_refuse before insert on inbound_messages for each row execute function mailroom_fault_refuse()`);
      },
      heal: async () => {
        await t.db.execute(sql`drop trigger mailroom_fault_refuse on inbound_messages`);
      },
    },
  ],
];
if (realMode) {
  failures.push(['is unreachable for 10 s', { forMs: 10_000, failingCheck: 'database', fail: () => proxy!.cut(), heal: () => proxy!.restore() }]);
  failures.push(['terminates the spool writer\'s connections mid-COPY for 5 s', terminatingCopyBackends(5_000)]);
}

/**
 * pg_terminate_backend on every COPY connection of the daemon, over and over: writes die half-way
 * through their COPY, and connections opened to replace them die too.
 */
function terminatingCopyBackends(forMs: number): Failure {
  let killing: Promise<void> | null = null;
  let stop = false;
  return {
    forMs,
    failingCheck: 'intake',
    fail: async () => {
      stop = false;
      const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
      const database = new URL(t.databaseUrl!).pathname.slice(1);
      killing = (async () => {
        try {
          while (!stop) {
            await admin`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'mailroom-copy' and datname = ${database}`;
          }
        } finally {
          await admin.end();
        }
      })();
    },
    heal: async () => {
      stop = true;
      await killing;
    },
  };
}

/** /readyz asked every 100 ms while `running`, each answer with the time it came. */
function watchReadiness(started: number) {
  const answers: Array<{ at: number; status: number; checks: Record<string, { ok: boolean; error?: string }> }> = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const response = await fetch(`http://127.0.0.1:${t.httpPort}/readyz`);
      const body = (await response.json()) as { checks: Record<string, { ok: boolean; error?: string }> };
      answers.push({ at: Date.now() - started, status: response.status, checks: body.checks });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    answers,
    async stop() {
      running = false;
      await done;
    },
  };
}

describe('mail intake when PostgreSQL fails under load', () => {
  it.each(failures)('answers 451 4.3.0 while the database %s, does not crash, and once it is back takes and processes every mail', async (name, failure) => {
    const spooledBefore = t.logs.events('message.queued').length;
    const spoolFailedBefore = t.logs.events('smtp.spool_failed').length;
    const retriesBefore = t.logs.events('message.retry').length;
    let acks = 0;
    // Times below are ms since the load began, like the client's incident times.
    const loadStarted = Date.now();
    const readiness = watchReadiness(loadStarted);
    const load = runLoad({ port: t.smtpPort, mails: MAILS, sessions: SESSIONS, paceMs: 100, retryPauseMs: 300, deadlineMs: 90_000, onAccepted: (_m, n) => (acks = n) });
    await waitFor(() => acks >= 100, '100 mails accepted before the failure', 30_000);
    const window = { acksBefore: acks, failedAt: 0, healedAt: 0, acksDuring: 0, refusalsDuring: 0 };
    const started = Date.now();
    await failure.fail();
    window.failedAt = started - loadStarted;
    try {
      // The failure lasts forMs: this wait is the fault's duration, not a synchronisation.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + failure.forMs - Date.now())));
    } finally {
      await failure.heal();
      window.healedAt = Date.now() - loadStarted;
    }
    window.acksDuring = acks - window.acksBefore;
    const result = await load;
    await readiness.stop();
    expect.soft(crashes, 'what would have crashed a daemon process').toEqual([]);
    const crashesDuringLoad = crashes.length;

    // Every refusal was the retryable one, and each session was refused during the failure
    // rather than kept waiting for storage to come back (the driver's connect timeout is 5 s).
    const refusals = result.incidents.filter((incident) => incident.what !== 'conn');
    window.refusalsDuring = refusals.filter((incident) => incident.at >= window.failedAt && incident.at <= window.healedAt + 1000).length;
    reportScenario(`postgres: ${name} (load)`, { mode: realMode ? 'real' : 'embedded', loadMs: result.elapsedMs, slowestDataReplyMs: result.slowestDataReplyMs, ...window, codes: result.codes, crashes: crashes.length });
    expect(refusals.filter((incident) => !/^451 4\.3\.0 /.test(incident.what)).slice(0, 5), 'refusals other than 451 4.3.0').toEqual([]);
    expect.soft(window.refusalsDuring, `451 replies while the database ${name} (slowest DATA reply ${result.slowestDataReplyMs} ms)`).toBeGreaterThanOrEqual(SESSIONS);
    expect(result.codes.conn ?? 0, 'connections dropped by the daemon').toBe(0);
    expect(result.unfinished()).toHaveLength(0);

    // /readyz tells the truth: not ready while storage was broken, ready again once it was back
    const during = readiness.answers.filter((answer) => answer.at >= window.failedAt && answer.at <= window.healedAt + 1000);
    const notReady = during.filter((answer) => answer.status === 503 && !answer.checks[failure.failingCheck]!.ok);
    const firstAckAfterHeal = Math.min(...result.acks.filter((ack) => ack.at > window.healedAt).map((ack) => ack.at));
    const readyAgain = readiness.answers.find((answer) => answer.at > window.healedAt && answer.status === 200);
    reportScenario(`postgres: ${name} (readiness)`, {
      answersDuring: during.length,
      notReadyDuring: notReady.length,
      firstNotReadyAfterFailMs: notReady[0] ? notReady[0].at - window.failedAt : null,
      example: notReady[0]?.checks[failure.failingCheck]?.error?.slice(0, 200) ?? null,
      firstAckAfterHealMs: firstAckAfterHeal - window.healedAt,
      readyAgainAfterHealMs: readyAgain ? readyAgain.at - window.healedAt : null,
    });
    expect(notReady.length, `/readyz answers naming ${failure.failingCheck} as failing while the database ${name}`).toBeGreaterThan(0);
    expect(firstAckAfterHeal - window.healedAt, 'ms from the repair to the next mail stored').toBeLessThan(10_000);
    expect(readyAgain, '/readyz ready again after the repair').toBeDefined();
    expect(readyAgain!.at - window.healedAt, 'ms from the repair to /readyz ready').toBeLessThan(15_000);

    const drainStarted = Date.now();
    await waitFor(async () => (await unfinishedRowCount(t.db)) === 0, 'every spool row to finish', 90_000);
    const drainMs = Date.now() - drainStarted;
    expect(crashes.slice(crashesDuringLoad), 'what would have crashed a daemon process, after the load').toEqual([]);
    const report = await assertEveryAcceptedMailStoredOnce(t.db, result, result.messageIdPrefix);
    expect(report.articles).toBe(MAILS);
    reportScenario(`postgres: ${name}`, {
      mode: realMode ? 'real' : 'embedded',
      loadMs: result.elapsedMs,
      slowestDataReplyMs: result.slowestDataReplyMs,
      drainMs,
      ...window,
      spoolFailures: t.logs.events('smtp.spool_failed').length - spoolFailedBefore,
      messageRetries: t.logs.events('message.retry').length - retriesBefore,
      queuedThisRow: t.logs.events('message.queued').length - spooledBefore,
      codes: result.codes,
      ...report,
    });
  }, 150_000);
});
