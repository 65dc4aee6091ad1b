import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../helpers/load-client.js';
import { realMode } from '../helpers/mode.js';
import { assertEveryAcceptedMailStoredOnce, createDaemonHarness, expectNoFatal, reportScenario, waitForSpoolDrained, type DaemonHarness } from './fault-harness.js';

const MAILS = 1000;
const SESSIONS = 10;
/** SIGTERM when the client has seen this many 250s. */
const STOP_AT = 300;

let h: DaemonHarness;
beforeAll(async () => {
  h = await createDaemonHarness({ redisDb: 12 });
});
afterAll(async () => {
  await h?.cleanup();
});

describe('a daemon stopped with SIGTERM under load', () => {
  it(`exits 0, and after a restart every one of ${MAILS} mails that got 250 is processed exactly once`, async () => {
    await h.start();
    let stopping: Promise<void> | null = null;
    let stopError: unknown = null;
    const stop = { exitCode: null as number | null, stopMs: 0, downMs: 0, acksAtSignal: 0, acksDuringShutdown: 0 };
    const abort = new AbortController();
    let acks = 0;
    const stopAndRestart = async (): Promise<void> => {
      const started = Date.now();
      stop.acksAtSignal = acks;
      stop.exitCode = await h.signal('SIGTERM');
      stop.stopMs = Date.now() - started;
      // A 250 sent while shutting down is still a promise kept by the restarted daemon.
      stop.acksDuringShutdown = acks - stop.acksAtSignal;
      await h.start();
      stop.downMs = Date.now() - started;
    };

    const load = await runLoad({
      port: h.smtpPort,
      mails: MAILS,
      sessions: SESSIONS,
      deadlineMs: 90_000,
      retryPauseMs: 200,
      signal: abort.signal,
      onAccepted: (_mail, n) => {
        acks = n;
        if (stopping || n !== STOP_AT) return;
        stopping = stopAndRestart().catch((err: unknown) => {
          stopError = err;
          abort.abort();
        });
      },
    });
    await stopping;
    if (stopError) throw new Error(`stop and restart failed: ${(stopError as Error).message}`);
    expect(stop.exitCode, 'exit code after SIGTERM').toBe(0);
    expect(h.lives[0]!.logLines.some((line) => line.event === 'app.stopped')).toBe(true);
    expect(load.unfinished()).toHaveLength(0);

    const drainMs = await waitForSpoolDrained(h, 60_000);
    expectNoFatal(h);
    expect(await h.signal('SIGTERM')).toBe(0);
    const report = await h.withDb((db) => assertEveryAcceptedMailStoredOnce(db, load, load.messageIdPrefix));
    expect(report.articles).toBe(MAILS);
    reportScenario('sigterm', { mode: realMode ? 'real' : 'embedded', loadMs: load.elapsedMs, drainMs, ...stop, codes: load.codes, ...report });
  }, 180_000);
});
