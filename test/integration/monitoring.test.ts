import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { insertInbound } from '../../db/inbound.js';
import { ANSWER_WITHIN_MS, readiness, sample, scrape } from '../helpers/probes.js';
import { waitForInbound } from '../helpers/queries.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function app(options: Parameters<typeof startTestApp>[0] = {}): Promise<TestApp> {
  const t = await startTestApp(options);
  cleanups.push(() => t.close());
  return t;
}

describe('/metrics', () => {
  it('names the process metrics mailroom_process_… (prefixed once) and says which build runs', async () => {
    const t = await app();
    const { text } = await scrape(t);
    expect(text).toMatch(/^mailroom_process_cpu_seconds_total \S+$/m);
    expect(text).toMatch(/^mailroom_nodejs_eventloop_lag_max_seconds \S+$/m);
    expect(text).not.toContain('process_process_');
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(sample(text, `mailroom_build_info{version="${version}",node="${process.version}"}`)).toBe(1);
    expect(sample(text, 'mailroom_queue_up{queue="mailroom-inbound"}')).toBe(1);
    expect(sample(text, 'mailroom_queue_up{queue="mailroom-outbound"}')).toBe(1);
  });

  it('flips the rules reload gauges on a rejected edit and back on a fixed one, the instance staying ready', async () => {
    const t = await app();
    const good = readFileSync(t.rulesFile, 'utf8');
    const atStart = await scrape(t);
    expect(sample(atStart.text, 'mailroom_rules_last_reload_success')).toBe(1);
    const startedAt = sample(atStart.text, 'mailroom_rules_last_reload_timestamp_seconds')!;
    expect(Math.abs(startedAt - Date.now() / 1000)).toBeLessThan(60);

    writeFileSync(t.rulesFile, `${good}\nunknown_section: 1\n`);
    expect(await t.app.reloadRules()).toBe(false);
    const rejected = await scrape(t);
    expect(sample(rejected.text, 'mailroom_rules_last_reload_success')).toBe(0);
    const rejectedAt = sample(rejected.text, 'mailroom_rules_last_reload_timestamp_seconds')!;
    expect(rejectedAt).toBeGreaterThan(startedAt);
    const ready = await readiness(t);
    expect(ready.status).toBe(200);
    expect(ready.body.checks.rules).toMatchObject({ ok: true, lastReload: { ok: false, error: expect.stringMatching(/unknown_section/) } });
    expect(t.logs.events('rules.rejected').length).toBeGreaterThan(0);

    writeFileSync(t.rulesFile, good);
    expect(await t.app.reloadRules()).toBe(true);
    const fixed = await scrape(t);
    expect(sample(fixed.text, 'mailroom_rules_last_reload_success')).toBe(1);
    expect(sample(fixed.text, 'mailroom_rules_last_reload_timestamp_seconds')!).toBeGreaterThan(rejectedAt);
    expect((await readiness(t)).body.checks.rules).toEqual({ ok: true, lastReload: { ok: true, at: expect.any(String) } });
  });

  it('counts spool rows that failed and wait for a replay', async () => {
    const t = await app();
    expect(sample((await scrape(t)).text, 'mailroom_spool_failed_rows')).toBe(0);
    // Past mailparser's header limit: kept as failed, for a replay once the parser can read it.
    const raw = Buffer.from(`From: Raro <raro@cliente.es>\r\nSubject: Factura\r\nX-Huge: ${'a'.repeat(2_000_000)}\r\n\r\nNo puedo pagar.\r\n`);
    const envelope = { mailFrom: 'raro@cliente.es', rcptTo: ['soporte@example.com'], clientAddress: '127.0.0.1', clientHelo: 'x', tls: false, receivedAt: new Date() };
    const id = await insertInbound(t.db, envelope, raw, createHash('sha256').update(raw).digest('hex'));
    await t.app.queue.enqueue(id);
    expect((await waitForInbound(t, id, 30_000)).state).toBe('failed');
    expect(sample((await scrape(t)).text, 'mailroom_spool_failed_rows')).toBe(1);
  });

  it('answers within 2 s while the database hangs, leaving out the gauges it could not read', async () => {
    const t = await app();
    expect(sample((await scrape(t)).text, 'mailroom_suspended_messages')).toBe(0);
    // A transaction holding the spool table: every read of it waits (on PGlite, every statement).
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holding = t.db.transaction(async (tx) => {
      await tx.execute(sql`lock table inbound_messages in access exclusive mode`);
      locked();
      await held;
    });
    try {
      await isLocked;
      const { ms, text } = await scrape(t);
      expect(ms).toBeLessThan(ANSWER_WITHIN_MS);
      for (const gauge of ['mailroom_suspended_messages', 'mailroom_spool_failed_rows', 'mailroom_oldest_unprocessed_age_seconds']) {
        expect(sample(text, gauge), `${gauge} is left out, not stale or 0`).toBeNull();
      }
      expect(sample(text, 'mailroom_queue_up{queue="mailroom-inbound"}')).toBe(1);
      expect(sample(text, 'mailroom_rules_last_reload_success')).toBe(1);
    } finally {
      release();
      await holding;
    }
    expect(sample((await scrape(t)).text, 'mailroom_suspended_messages')).toBe(0);
  });
});
