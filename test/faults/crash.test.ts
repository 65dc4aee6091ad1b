import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../helpers/load-client.js';
import { realMode } from '../helpers/mode.js';
import { assertEveryAcceptedMailStoredOnce, createDaemonHarness, unfinishedRowCount, expectNoFatal, reportScenario, waitForSpoolDrained, type DaemonHarness } from './fault-harness.js';

// The numbers, in both modes: PGlite takes 2,000 mails in about 15 s on 2 cores.
const MAILS = 2000;
const SESSIONS = 20;
/** The daemon is SIGKILLed when the client has seen this many 250s. */
const KILL_AT = [300, 900, 1500];
/**
 * Real mode: a job whose worker was SIGKILLed is only handed out again once its BullMQ lock has
 * expired and the stalled-job check has run (30 s each by default), so the tail can take ~70 s.
 */
const DRAIN_TIMEOUT_MS = realMode ? 100_000 : 60_000;

let h: DaemonHarness;
beforeAll(async () => {
  h = await createDaemonHarness({ redisDb: 11 });
});
afterAll(async () => {
  await h?.cleanup();
});

describe('a daemon killed with SIGKILL under load', () => {
  it(`loses no acknowledged mail and stores none twice: ${MAILS} mails over ${SESSIONS} sessions, killed ${KILL_AT.length} times and restarted`, async () => {
    await h.start();
    const kills: Array<{ afterAcks: number; downMs: number; exitSignal: string | null; requeuedAtStart: unknown }> = [];
    let restarting: Promise<void> | null = null;
    let killsStarted = 0;
    let restartError: unknown = null;
    let backlog: number | string = 'unknown';
    const abort = new AbortController();
    const crashAndRestart = async (afterAcks: number): Promise<void> => {
      const daemon = h.daemon!;
      const down = Date.now();
      const exit = new Promise<string | null>((resolve) => daemon.child.once('exit', (_code, signal) => resolve(signal)));
      await h.signal('SIGKILL');
      const exitSignal = await exit;
      const life = await h.start();
      const requeuedAtStart = life.logLines.find((line) => line.event === 'sweeper.pass' && line.startup === true)?.requeued ?? 0;
      kills.push({ afterAcks, downMs: Date.now() - down, exitSignal, requeuedAtStart });
    };

    const load = await runLoad({
      port: h.smtpPort,
      mails: MAILS,
      sessions: SESSIONS,
      deadlineMs: 120_000,
      retryPauseMs: 200,
      signal: abort.signal,
      onAccepted: (_mail, acks) => {
        if (restarting || killsStarted >= KILL_AT.length || acks < KILL_AT[killsStarted]!) return;
        killsStarted += 1;
        restarting = crashAndRestart(acks)
          .catch(async (err: unknown) => {
            restartError = err;
            abort.abort();
            // What the daemon had to pick up when it failed to come back, for the failure message.
            backlog = await h.withDb((db) => unfinishedRowCount(db)).catch((countErr: unknown) => `unknown (${String(countErr)})`);
          })
          .finally(() => (restarting = null));
      },
    });
    while (restarting) await restarting;
    if (restartError) throw new Error(`restart after SIGKILL ${kills.length + 1} failed (${load.acks.length} mails acknowledged so far, ${backlog} spool rows unfinished): ${(restartError as Error).message}`);
    expect(kills.map((k) => k.exitSignal)).toEqual(KILL_AT.map(() => 'SIGKILL'));
    expect(load.unfinished()).toHaveLength(0);

    const drainMs = await waitForSpoolDrained(h, DRAIN_TIMEOUT_MS);
    expectNoFatal(h);
    expect(await h.signal('SIGTERM')).toBe(0);
    const report = await h.withDb((db) => assertEveryAcceptedMailStoredOnce(db, load, load.messageIdPrefix));
    expect(report.articles).toBe(MAILS);
    reportScenario('crash', { mode: realMode ? 'real' : 'embedded', loadMs: load.elapsedMs, drainMs, kills, codes: load.codes, ...report });
  }, 240_000);
});
