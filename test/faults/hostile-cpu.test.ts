import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RULES_FILE } from '../../daemon/config.js';
import { getInbound } from '../../db/inbound.js';
import { realMode } from '../helpers/mode.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { rawMessage } from '../helpers/test-app.js';
import { runAlone } from '../helpers/exclusive.js';
import { createDaemonHarness, expectNoFatal, reportScenario, type DaemonHarness } from './fault-harness.js';

/**
 * A message built to be expensive to process (20 MB of "password: x", every bit of it a match of
 * the example's password pattern) must not hold up anyone else's SMTP session: while it is
 * parsed, checked and redacted, other clients still get their 250 within a second.
 */
let release: (() => void) | undefined;
let h: DaemonHarness;
beforeAll(async () => {
  // Heavy suites take turns, however long the other holds the machine: on two cores they
  // would measure each other.
  release = await runAlone('heavy');
  h = await createDaemonHarness({ redisDb: 14, env: { MAILROOM_CONFIG: DEFAULT_RULES_FILE, MAILROOM_MAX_MESSAGE_BYTES: String(30 * 1024 * 1024) } });
}, 900_000);
afterAll(async () => {
  await h?.cleanup();
  release?.();
});

function hostileMessage(bytes: number): string {
  const line = 'password: x '.repeat(83).trimEnd();
  const body = Array.from({ length: Math.ceil(bytes / (line.length + 2)) }, () => line).join('\r\n');
  return rawMessage({ from: 'eve@attacker.example', subject: 'Necesito ayuda', body });
}

describe('CPU-heavy mail', () => {
  it("a hostile 20 MB message does not delay another session's 250 by more than a second", async () => {
    const life = h.daemon ?? (await h.start());
    const hostile = await sendRaw(h.smtpPort, { from: 'eve@attacker.example', to: ['soporte@example.com'] }, hostileMessage(20 * 1024 * 1024));
    expect(hostile.code, hostile.response).toBe(250);
    const hostileId = Number(/queued as (\d+)/.exec(hostile.response)![1]);
    const latencies: number[] = [];
    const deadline = Date.now() + 90_000;
    let processed = false;
    while (!processed && Date.now() < deadline) {
      const started = Date.now();
      const result = await sendRaw(h.smtpPort, { from: 'ana@cliente.es', to: ['soporte@example.com'] }, rawMessage({ from: 'ana@cliente.es', subject: 'Consulta' }));
      latencies.push(Date.now() - started);
      expect(result.code, result.response).toBe(250);
      const state = await h.withDb(async (db) => (await getInbound(db, hostileId))?.state);
      processed = state !== 'received' && state !== 'processing';
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const metrics = await (await fetch(`http://127.0.0.1:${life.httpPort}/metrics`)).text();
    const eventLoopMaxMs = Number(/^mailroom_nodejs_eventloop_lag_max_seconds (\S+)/m.exec(metrics)?.[1] ?? NaN) * 1000;
    const slowest = [...latencies].sort((a, b) => b - a).slice(0, 5);
    reportScenario('hostile CPU: 20 MB of password matches', { mode: realMode ? 'real' : 'embedded', probes: latencies.length, slowestMs: slowest, eventLoopMaxMs, processed });
    expect(processed, 'the hostile message was processed').toBe(true);
    expect(Math.max(...latencies)).toBeLessThan(1000);
    expectNoFatal(h);
    expect(h.daemon).toBe(life);
  }, 180_000);
});
