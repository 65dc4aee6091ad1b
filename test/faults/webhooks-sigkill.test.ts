import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookDeliveries } from '../../db/schema.js';
import { rawMessage } from '../helpers/test-app.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';
import { rulesWith } from '../helpers/webhook-kit.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { createDaemonHarness, type DaemonHarness } from './fault-harness.js';

/*
 * A daemon killed (SIGKILL, no chance to clean up) while a webhook POST is in flight: the event
 * is sent again after the restart, with the same event id, and recorded as delivered once. The
 * row stays leased for twice the POST timeout and a second (5 s here): until then no daemon can
 * tell a dead sender from a slow one on a shared database.
 */
let h: DaemonHarness;
let crm: WebhookReceiver;
let rulesDir: string;
beforeAll(async () => {
  crm = await startWebhookReceiver();
  rulesDir = mkdtempSync(path.join(os.tmpdir(), 'mailroom-webhook-kill-'));
  const rulesFile = path.join(rulesDir, 'rules.yaml');
  writeFileSync(rulesFile, rulesWith([{ id: 'crm', url: crm.url, events: ['ticket.created'] }]));
  h = await createDaemonHarness({
    redisDb: 9,
    env: { MAILROOM_CONFIG: rulesFile, MAILROOM_WEBHOOK_POLL_INTERVAL: '50ms', MAILROOM_WEBHOOK_RETRY_MIN: '100ms', MAILROOM_WEBHOOK_RETRY_MAX: '200ms', MAILROOM_WEBHOOK_TIMEOUT: '2s' },
  });
});
afterAll(async () => {
  await h?.cleanup();
  await crm?.close();
  rmSync(rulesDir, { recursive: true, force: true });
});

describe('a daemon killed mid-delivery of a webhook', () => {
  it('delivers the event after the restart, once, with the same id', async () => {
    await h.start();
    crm.answer = () => 'hang';
    const sent = await sendRaw(h.smtpPort, { from: 'kim@client.example', to: ['soporte@example.com'] }, rawMessage({ from: 'kim@client.example', subject: 'Killed mid-flight' }));
    expect(sent.code, sent.response).toBe(250);
    await waitFor(() => crm.received.length >= 1 || undefined, 'the first POST in flight', 20_000);
    await h.signal('SIGKILL');

    crm.answer = () => 200;
    await h.start();
    await waitFor(() => crm.received.length >= 2 || undefined, 'the POST again after the restart', 30_000);
    // Long enough for a wrongly repeated delivery to show (the poll runs every 50 ms).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(crm.received.map((r) => r.json.type)).toEqual(['ticket.created', 'ticket.created']);
    expect(crm.received[1]!.json.id).toBe(crm.received[0]!.json.id);
    await h.signal('SIGTERM');
    const rows = await h.withDb((db) => db.select().from(webhookDeliveries));
    expect(rows.map((r) => ({ state: r.state, attempts: r.attempts }))).toEqual([{ state: 'delivered', attempts: 2 }]);
  }, 120_000);
});
