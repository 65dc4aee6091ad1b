import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForInbound } from '../helpers/queries.js';
import { queuedId, RawSmtp } from '../helpers/smtp-client.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

async function metricsText(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${t.httpPort}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return response.text();
}

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe("the operator's HTTP endpoints", () => {
  it('answers /healthz and /readyz with the state of each dependency', async () => {
    expect(await (await fetch(`http://127.0.0.1:${t.httpPort}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`http://127.0.0.1:${t.httpPort}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      ready: true,
      checks: { database: { ok: true }, queue: { ok: true }, intake: { ok: true }, rules: { ok: true, lastReload: { ok: true, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) } } },
    });
  });

  it('counts received, refused, processed and ignored mail in /metrics', async () => {
    const before = await metricsText();
    const ok = await t.send({ from: 'ana@cliente.es', to: ['soporte@example.com'] }, rawMessage({ from: 'ana@cliente.es', subject: 'metrics' }));
    await waitForInbound(t, queuedId(ok));
    const ooo = await t.send({ from: 'bot@cliente.es', to: ['soporte@example.com'] }, rawMessage({ from: 'bot@cliente.es', subject: 'auto', headers: { 'Auto-Submitted': 'auto-replied' } }));
    await waitForInbound(t, queuedId(ooo));
    const { client } = await RawSmtp.connect(t.smtpPort);
    await client.command('EHLO x');
    await client.command('MAIL FROM:<a@b.example>');
    expect(await client.command('RCPT TO:<nobody@example.com>')).toMatch(/^550/);
    client.close();
    const after = await metricsText();
    expect(value(after, 'mailroom_messages_received_total') - value(before, 'mailroom_messages_received_total')).toBe(2);
    expect(value(after, 'mailroom_messages_processed_total') - value(before, 'mailroom_messages_processed_total')).toBe(1);
    expect(value(after, 'mailroom_messages_ignored_total{reason="auto_generated:auto_submitted"}')).toBeGreaterThanOrEqual(1);
    expect(value(after, 'mailroom_smtp_refused_total{code="550"}')).toBeGreaterThanOrEqual(1);
    expect(after).toMatch(/^mailroom_processing_seconds_count \d+/m);
    expect(after).toMatch(/^mailroom_queue_depth\{queue="mailroom-inbound"\} 0$/m);
    expect(after).toMatch(/^mailroom_oldest_unprocessed_age_seconds 0$/m);
  });
});
