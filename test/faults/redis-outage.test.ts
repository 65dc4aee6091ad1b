import { afterAll, describe, expect, it } from 'vitest';
import { runLoad } from '../helpers/load-client.js';
import { realMode } from '../helpers/mode.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';
import { assertEveryAcceptedMailStoredOnce, createDaemonHarness, expectNoFatal, reportScenario, waitForSpoolDrained, type DaemonHarness } from './fault-harness.js';

interface Scenario {
  mails: number;
  sessions: number;
  /** Each session starts a mail at most this often, so the load spans the outage. */
  paceMs: number;
  /** Redis is cut when the client has seen this many 250s, for `forMs`. */
  outage: { afterAcks: number; forMs: number } | null;
}

/**
 * In embedded mode the queue lives in the daemon's process: there is no Redis to lose, so only
 * the control row runs there (the same paced load, nothing cut). The outage row needs real mode.
 */
const scenarios: Array<[string, Scenario]> = [['with nothing cut (control)', { mails: 300, sessions: 10, paceMs: 100, outage: null }]];
if (realMode) {
  // ~33 mails/s for ~30 s: Redis is gone for 20 s in the middle of it.
  scenarios.push(['while Redis is unreachable for 20 s', { mails: 1000, sessions: 10, paceMs: 300, outage: { afterAcks: 50, forMs: 20_000 } }]);
}

const proxies: TcpProxy[] = [];
const harnesses: DaemonHarness[] = [];
afterAll(async () => {
  for (const h of harnesses) await h.cleanup();
  for (const proxy of proxies) await proxy.close();
});

async function readiness(h: DaemonHarness): Promise<{ status: number; body: { checks?: Record<string, { ok: boolean }> } }> {
  const response = await fetch(`http://127.0.0.1:${h.daemon!.httpPort}/readyz`);
  return { status: response.status, body: (await response.json()) as { checks?: Record<string, { ok: boolean }> } };
}

describe('mail intake when the queue backend fails', () => {
  it.each(scenarios)('%s: SMTP keeps answering 250, nothing is lost, and every mail is processed once', async (name, scenario) => {
    let proxy: TcpProxy | null = null;
    if (realMode) {
      const redis = new URL(process.env.REDIS_URL!);
      proxy = await startTcpProxy(redis.hostname, Number(redis.port || 6379));
      proxies.push(proxy);
    }
    // The sweeper re-enqueues rows whose enqueue failed; a short interval keeps the tail short.
    const h = await createDaemonHarness({ redisDb: 13, redisPort: proxy?.port, env: { MAILROOM_SWEEP_INTERVAL_MS: '1000' } });
    harnesses.push(h);
    await h.start();

    let acks = 0;
    const load = runLoad({ port: h.smtpPort, mails: scenario.mails, sessions: scenario.sessions, paceMs: scenario.paceMs, deadlineMs: 90_000, onAccepted: (_m, n) => (acks = n) });
    const outage = { acksBefore: 0, acksDuring: 0, readyDuring: null as number | null, readyAfter: null as number | null, cutMs: 0 };
    if (scenario.outage && proxy) {
      const { afterAcks, forMs } = scenario.outage;
      await waitFor(() => acks >= afterAcks, `${afterAcks} mails accepted before the outage`, 30_000);
      outage.acksBefore = acks;
      const cutAt = Date.now();
      await proxy.cut();
      try {
        const down = await waitFor(async () => {
          const ready = await readiness(h);
          return ready.status === 503 && ready.body.checks?.queue?.ok === false ? ready : undefined;
        }, 'readiness to report the queue down', 10_000);
        outage.readyDuring = down.status;
        // The outage itself lasts forMs: this wait is the fault's duration, not a synchronisation.
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, cutAt + forMs - Date.now())));
        outage.acksDuring = acks - outage.acksBefore;
      } finally {
        await proxy.restore();
        outage.cutMs = Date.now() - cutAt;
      }
      expectNoFatal(h);
      expect(h.daemon, 'the daemon survived the outage').not.toBeNull();
      // Intake went on during the outage at roughly the paced rate (sessions / paceMs).
      expect(outage.acksDuring).toBeGreaterThan(((forMs / scenario.paceMs) * scenario.sessions) / 2);
      outage.readyAfter = (await waitFor(async () => ((await readiness(h)).status === 200 ? 200 : undefined), 'readiness once Redis is back', 20_000));
      // Every reconnect failed for 20 s: one WARN when it began, one line when it ended.
      expect(h.events('queue.redis_down'), 'queue.redis_down lines').toHaveLength(1);
      expect(h.events('queue.redis_up'), 'queue.redis_up lines').toEqual([expect.objectContaining({ suppressedErrors: expect.any(Number), downMs: expect.any(Number) })]);
    }
    const result = await load;
    expect(result.incidents.slice(0, 10), `replies other than 2xx/3xx (${JSON.stringify(result.codes)})`).toEqual([]);
    expect(result.unfinished()).toHaveLength(0);

    // Rows whose enqueue failed wait for the sweeper's grace period (30 s) after Redis is back.
    const drainMs = await waitForSpoolDrained(h, 90_000);
    expectNoFatal(h);
    expect(await h.signal('SIGTERM')).toBe(0);
    const report = await h.withDb((db) => assertEveryAcceptedMailStoredOnce(db, result, result.messageIdPrefix));
    expect(report.articles).toBe(scenario.mails);
    reportScenario(`redis: ${name}`, {
      mode: realMode ? 'real' : 'embedded',
      loadMs: result.elapsedMs,
      drainMs,
      ...outage,
      // A streak of failed enqueues is logged at its start; its end counts the rest.
      enqueueFailures: h.events('queue.enqueue_failed').length + h.events('queue.enqueue_recovered').reduce((sum, line) => sum + Number(line.suppressedErrors), 0),
      codes: result.codes,
      ...report,
    });
  }, 200_000);
});
