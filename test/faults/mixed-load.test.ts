import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RULES_FILE } from '../../daemon/config.js';
import { runLoad } from '../helpers/load-client.js';
import { realMode } from '../helpers/mode.js';
import { runAlone } from '../helpers/exclusive.js';
import { assertEveryAcceptedMailSpooledOnce, createDaemonHarness, expectNoFatal, reportScenario, type DaemonHarness } from './fault-harness.js';
import { mixedMessage } from './mixed-mail.js';

/**
 * Ordinary traffic of a busy helpdesk: sessions that reuse their connections, mostly small
 * customer mail with a large one mixed in (chunked spool writes beside group-committed small
 * ones), while the workers parse, thread, answer and send on the same database. In this traffic
 * nothing may be refused, nothing may fail and be retried, nothing may crash, and every
 * acknowledged mail is stored exactly once.
 */
const SCENARIOS = [
  { name: '10 sessions × 150, every 15th 300 KB', sessions: 10, perSession: 150, largeEvery: 15, largeBytes: 300 * 1024, runs: 5 },
  { name: '30 sessions × 50, every 10th 1 MB', sessions: 30, perSession: 50, largeEvery: 10, largeBytes: 1024 * 1024, runs: 1 },
];

let release: (() => void) | undefined;
let h: DaemonHarness;
beforeAll(async () => {
  // Heavy suites take turns, however long the other holds the machine: on two cores they
  // would measure each other.
  release = await runAlone('heavy');
  // The shipped example rules: every new mail opens a ticket and most get an auto-reply, so the
  // processing and sending workers share the database with intake, as in production.
  h = await createDaemonHarness({ redisDb: 10, env: { MAILROOM_CONFIG: DEFAULT_RULES_FILE } });
}, 900_000);
afterAll(async () => {
  await h?.cleanup();
  release?.();
});

/** Warnings and errors the daemon logged: in ordinary traffic there are none. */
const troubleLines = (from: number): string[] =>
  h.lives.flatMap((life) => life.logLines.slice(from).filter((line) => Number(line.level) >= 40).map((line) => JSON.stringify(line).slice(0, 600)));

describe('ordinary mixed load on the production stack', () => {
  for (const scenario of SCENARIOS) {
    it(`${scenario.name}, ${scenario.runs} run(s) in a row: no 451, no spool failure, no failed job, no crash, every acknowledged mail stored once`, async () => {
      const life = h.daemon ?? (await h.start());
      // a daemon that dies ends the run at once instead of at the client's deadline
      const died = new AbortController();
      life.child.once('exit', () => died.abort());
      for (let run = 1; run <= scenario.runs; run++) {
        const linesBefore = life.logLines.length;
        const load = await runLoad({
          port: h.smtpPort,
          mails: scenario.sessions * scenario.perSession,
          sessions: scenario.sessions,
          mailsPerConnection: scenario.perSession,
          deadlineMs: 120_000,
          retryPauseMs: 200,
          signal: died.signal,
          build: (index, ids) => mixedMessage(index, ids, index % scenario.largeEvery === scenario.largeEvery - 1 ? scenario.largeBytes : 5 * 1024),
        });
        const report = await h.withDb((db) => assertEveryAcceptedMailSpooledOnce(db, load));
        reportScenario(`mixed load: ${scenario.name}, run ${run}`, { mode: realMode ? 'real' : 'embedded', loadMs: load.elapsedMs, slowestDataReplyMs: load.slowestDataReplyMs, codes: load.codes, ...report });
        expectNoFatal(h);
        expect(h.daemon, 'the daemon is still running').toBe(life);
        expect(troubleLines(linesBefore).slice(0, 5), `run ${run}: warnings and errors the daemon logged`).toEqual([]);
        expect(load.incidents.slice(0, 10), `run ${run}: replies other than 250, and dropped connections`).toEqual([]);
        expect(report.spooled).toBe(load.mails.length);
      }
    }, 600_000);
  }

  it('then stops cleanly on SIGTERM, its backlog left for the next start', async () => {
    expect(await h.signal('SIGTERM')).toBe(0);
    expectNoFatal(h);
  }, 120_000);
});
