import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listTicketDeliveries } from '../../db/deliveries.js';
import { findTicketByNumber } from '../../db/tickets.js';
import { apiClient } from '../helpers/api-client.js';
import type { OpenApiDocument } from '../helpers/openapi-check.js';
import { ticketOfInbound, waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';
import { rulesWith, WEBHOOK_SECRET } from '../helpers/webhook-kit.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/*
 * Internal notes and the webhook delivery log over /api/v1, against the real daemon: mail in by
 * SMTP, out to a sink, webhooks to real HTTP receivers; every JSON answer checked against the
 * schema the OpenAPI document gives for it.
 */
const TOKENS = {
  read: 'notes-read-token-abcdefghijklmnopqrstuvwxyz',
  agent: 'notes-agent-token-abcdefghijklmnopqrstuvwxyz',
  admin: 'notes-admin-token-abcdefghijklmnopqrstuvwxyz',
};

let sink: SmtpSink;
let crm: WebhookReceiver;
let down: WebhookReceiver;
let t: TestApp;
let tokensDir: string;
let openapi: OpenApiDocument;
const numbers: number[] = [];

const { call, documented } = apiClient(() => t.httpPort, TOKENS.admin, () => openapi);

async function cli(...argv: string[]) {
  const io = { text: '', errors: '', out: (s: string) => void (io.text += s), err: (s: string) => void (io.errors += s), isTTY: false };
  const code = await t.app.runCommand(argv, io);
  return { code, text: io.text };
}

beforeAll(async () => {
  sink = await startSmtpSink();
  crm = await startWebhookReceiver();
  down = await startWebhookReceiver();
  down.answer = () => 503;
  tokensDir = mkdtempSync(path.join(os.tmpdir(), 'mailroom-notes-tokens-'));
  const tokensFile = path.join(tokensDir, 'tokens.yaml');
  writeFileSync(tokensFile, Object.entries(TOKENS).map(([role, token]) => `- name: ${role}-bot\n  role: ${role}\n  token: ${token}\n`).join(''));
  const rules = rulesWith([
    { id: 'crm', url: `${crm.url}?key=in-the-query`, events: ['ticket.created'] },
    { id: 'down', url: down.url, events: ['ticket.created'] },
  ]);
  t = await startTestApp({
    rules,
    env: {
      MAILROOM_API_TOKENS_FILE: tokensFile,
      MAILROOM_SMTP_RELAY: sink.url,
      MAILROOM_WEBHOOK_POLL_INTERVAL: '50ms',
      MAILROOM_WEBHOOK_RETRY_MIN: '100ms',
      MAILROOM_WEBHOOK_RETRY_MAX: '200ms',
      // `down` answers 503: its deliveries fail within a second, to be retried.
      MAILROOM_WEBHOOK_MAX_AGE: '1s',
    },
  });
  openapi = (await call('GET', '/api/v1/openapi.json', { token: null })).json as OpenApiDocument;
  for (const name of ['ana', 'bea', 'cris']) {
    const sent = await t.send({ from: `${name}@cliente.es`, to: ['soporte@example.com'] }, rawMessage({ from: `${name}@cliente.es`, subject: `Pedido de ${name}`, body: 'Hola.' }));
    numbers.push((await ticketOfInbound(t, await waitForInbound(t, queuedId(sent)))).number);
  }
});
afterAll(async () => {
  await t?.close();
  await sink?.close();
  await crm?.close();
  await down?.close();
  rmSync(tokensDir, { recursive: true, force: true });
});

describe('internal notes', () => {
  it('adds a note under the token name that the ticket lists, without changing the status or sending any mail', async () => {
    const number = numbers[0]!;
    const ticket = (await findTicketByNumber(t.db, number))!;
    const mailsBefore = sink.mails.length;
    const deliveriesBefore = (await listTicketDeliveries(t.db, ticket.id)).length;

    const added = await documented('POST', '/tickets/{number}/notes', `/api/v1/tickets/${number}/notes`, { token: TOKENS.agent, body: { text: '  Called her; she will send the invoice.  ' } });
    expect(added.status).toBe(201);
    expect(added.json).toEqual({ ticket: number, id: expect.any(Number), text: 'Called her; she will send the invoice.', by: 'agent-bot', at: expect.any(String) });

    const detail = await documented('GET', '/tickets/{number}', `/api/v1/tickets/${number}`, { token: TOKENS.read });
    const body = detail.json as { ticket: { status: string; updatedAt: string }; notes: unknown[]; events: Array<{ type: string; data: unknown }> };
    expect(body.notes).toEqual([{ id: (added.json as { id: number }).id, text: 'Called her; she will send the invoice.', by: 'agent-bot', at: (added.json as { at: string }).at }]);
    expect(body.events.filter((e) => e.type === 'note.added').map((e) => e.data)).toEqual([{ text: 'Called her; she will send the invoice.', by: 'agent-bot' }]);
    expect(body.ticket.status).toBe(ticket.status);
    expect(new Date(body.ticket.updatedAt).getTime()).toBeGreaterThan(ticket.updatedAt.getTime());
    expect((await listTicketDeliveries(t.db, ticket.id)).length).toBe(deliveriesBefore);

    // A reply sent after the note is the barrier: once it is at the relay, anything the note had queued would be too.
    expect((await call('POST', `/api/v1/tickets/${number}/replies`, { token: TOKENS.agent, body: { body: 'Thanks, we wait for it.' } })).status).toBe(201);
    await waitFor(() => sink.mails.some((m) => m.message.text.includes('Thanks, we wait for it.')), 'the reply at the relay');
    const newMails = sink.mails.slice(mailsBefore);
    expect(newMails).toHaveLength(1);
    expect(newMails[0]!.message.text).not.toContain('invoice');

    const shown = await cli('tickets', 'show', String(number), '--json');
    expect((JSON.parse(shown.text) as { notes: unknown[] }).notes).toEqual(body.notes);
    expect((await cli('tickets', 'show', String(number))).text).toMatch(/Internal notes \(not sent\)\n.*agent-bot\n {4}Called her; she will send the invoice\./);
  });

  it('refuses a read token (403), an empty, missing, too long or unknown field (400), and an unknown ticket (404)', async () => {
    const url = `/api/v1/tickets/${numbers[1]}/notes`;
    const template = '/tickets/{number}/notes';
    expect((await documented('POST', template, url, { token: TOKENS.read, body: { text: 'Not mine to write' } })).status).toBe(403);
    expect((await call('POST', url, { token: null, body: { text: 'x' } })).status).toBe(401);
    for (const body of [{ text: '   ' }, {}, { text: 'x'.repeat(20_001) }, { text: 'ok', mail: true }, { text: 42 }]) {
      const refused = await documented('POST', template, url, { token: TOKENS.agent, body });
      expect(refused.status, JSON.stringify(body).slice(0, 40)).toBe(400);
    }
    expect((await documented('POST', template, url, { token: TOKENS.agent, body: { text: 'x'.repeat(20_000) } })).status).toBe(201);
    expect((await documented('POST', template, '/api/v1/tickets/999999/notes', { token: TOKENS.agent, body: { text: 'Lost' } })).status).toBe(404);
    const detail = (await call('GET', `/api/v1/tickets/${numbers[1]}`)).json as { notes: Array<{ text: string; by: string }> };
    expect(detail.notes.map((n) => [n.text.length, n.by])).toEqual([[20_000, 'agent-bot']]);
  });
});

describe('the webhook delivery log', () => {
  it('is for admin tokens only', async () => {
    for (const token of [TOKENS.read, TOKENS.agent]) {
      expect((await documented('GET', '/webhooks', '/api/v1/webhooks', { token })).status).toBe(403);
      expect((await documented('GET', '/webhooks/{name}/deliveries', '/api/v1/webhooks/crm/deliveries', { token })).status).toBe(403);
      expect((await documented('POST', '/webhooks/deliveries/{id}/retry', '/api/v1/webhooks/deliveries/1/retry', { token })).status).toBe(403);
    }
    expect((await call('GET', '/api/v1/webhooks', { token: null })).status).toBe(401);
  });

  it('lists each webhook with its deliveries per state and never its secret', async () => {
    await waitFor(async () => {
      const listed = (await call('GET', '/api/v1/webhooks')).json as { webhooks: Array<{ id: string; delivered: number; failed: number }> };
      return listed.webhooks.find((w) => w.id === 'crm')?.delivered === 3 && listed.webhooks.find((w) => w.id === 'down')?.failed === 3;
    }, 'crm to get every ticket.created and down to fail them all');
    const answer = await documented('GET', '/webhooks', '/api/v1/webhooks');
    expect(answer.json).toEqual({
      webhooks: [
        { id: 'crm', url: `${crm.url}?key=in-the-query`, events: ['ticket.created'], pending: 0, delivered: 3, failed: 0, lastError: null, lastErrorAt: null },
        { id: 'down', url: down.url, events: ['ticket.created'], pending: 0, delivered: 0, failed: 3, lastError: expect.stringMatching(/503/), lastErrorAt: expect.any(String) },
      ],
    });
    expect(answer.text).not.toContain(WEBHOOK_SECRET);
    expect(answer.text).not.toContain('secret');
  });

  it("pages a webhook's deliveries newest first, filters by state, and says 400 or 404 for what does not fit", async () => {
    const seen: Array<{ id: number; eventId: string; type: string; state: string }> = [];
    let cursor: string | null = null;
    do {
      const page = (await documented('GET', '/webhooks/{name}/deliveries', `/api/v1/webhooks/crm/deliveries?limit=2${cursor ? `&cursor=${cursor}` : ''}`)).json as { webhook: string; deliveries: typeof seen; nextCursor: string | null };
      expect(page.webhook).toBe('crm');
      expect(page.deliveries.length).toBeLessThanOrEqual(2);
      seen.push(...page.deliveries);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.map((d) => d.id)).toEqual([...seen.map((d) => d.id)].sort((a, b) => b - a));
    expect(seen.map((d) => [d.type, d.state])).toEqual([
      ['ticket.created', 'delivered'],
      ['ticket.created', 'delivered'],
      ['ticket.created', 'delivered'],
    ]);
    expect(seen.map((d) => d.eventId).sort()).toEqual(crm.received.map((r) => r.json.id).sort());
    const first = seen[0] as unknown as { deliveredAt: string | null; attempts: number; lastStatusCode: number | null; nextAttemptAt: string | null };
    expect(first).toMatchObject({ attempts: 1, lastStatusCode: 200, nextAttemptAt: null, deliveredAt: expect.any(String) });

    const failed = (await documented('GET', '/webhooks/{name}/deliveries', '/api/v1/webhooks/down/deliveries?state=failed')).json as { deliveries: Array<{ state: string; lastStatusCode: number }> };
    expect(failed.deliveries.map((d) => [d.state, d.lastStatusCode])).toEqual([
      ['failed', 503],
      ['failed', 503],
      ['failed', 503],
    ]);
    expect(((await call('GET', '/api/v1/webhooks/down/deliveries?state=delivered')).json as { deliveries: unknown[] }).deliveries).toEqual([]);
    expect((await documented('GET', '/webhooks/{name}/deliveries', '/api/v1/webhooks/nobody/deliveries')).status).toBe(404);
    expect((await documented('GET', '/webhooks/{name}/deliveries', '/api/v1/webhooks/crm/deliveries?state=lost')).status).toBe(400);
    expect((await documented('GET', '/webhooks/{name}/deliveries', '/api/v1/webhooks/crm/deliveries?cursor=nonsense')).status).toBe(400);
  });

  it('retries one failed delivery until it is delivered; 409 for one not failed, 404 for an unknown one', async () => {
    const failed = ((await call('GET', '/api/v1/webhooks/down/deliveries?state=failed')).json as { deliveries: Array<{ id: number; eventId: string }> }).deliveries;
    const delivered = ((await call('GET', '/api/v1/webhooks/crm/deliveries')).json as { deliveries: Array<{ id: number }> }).deliveries;
    expect((await documented('POST', '/webhooks/deliveries/{id}/retry', `/api/v1/webhooks/deliveries/${delivered[0]!.id}/retry`)).status).toBe(409);
    expect((await documented('POST', '/webhooks/deliveries/{id}/retry', '/api/v1/webhooks/deliveries/999999/retry')).status).toBe(404);

    down.answer = () => 200;
    const target = failed[1]!;
    const retried = await documented('POST', '/webhooks/deliveries/{id}/retry', `/api/v1/webhooks/deliveries/${target.id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.json).toMatchObject({ webhook: 'down', delivery: { id: target.id, state: 'pending', nextAttemptAt: expect.any(String) } });
    await waitFor(() => down.received.some((r) => r.json.id === target.eventId && r.status === 200), 'the retried delivery at the receiver');
    await waitFor(async () => {
      const rows = ((await call('GET', '/api/v1/webhooks/down/deliveries')).json as { deliveries: Array<{ id: number; state: string }> }).deliveries;
      return rows.find((row) => row.id === target.id)?.state === 'delivered';
    }, 'the retried delivery recorded as delivered');
    // Only the one asked for: the other failed deliveries stay failed.
    const still = ((await call('GET', '/api/v1/webhooks/down/deliveries?state=failed')).json as { deliveries: Array<{ id: number }> }).deliveries;
    expect(still.map((d) => d.id)).toEqual([failed[0]!.id, failed[2]!.id]);
  });
});
