import { createHmac, timingSafeEqual } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { webhookDeliveries } from '../../db/schema.js';
import { loadRuleSet } from '../../rules/load.js';
import { buildDsn } from '../helpers/dsn.js';
import { waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import type { TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';
import { type ReceivedWebhook, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { rulesWith, WEBHOOK_SECRET, webhookKit } from '../helpers/webhook-kit.js';

const SECRET = WEBHOOK_SECRET;
const { app, receiver, customerWrites } = webhookKit();

async function cli(t: TestApp, ...argv: string[]) {
  const io = { text: '', errors: '', out: (s: string) => void (io.text += s), err: (s: string) => void (io.errors += s), isTTY: false };
  const code = await t.app.runCommand(argv, io);
  return { code, text: io.text, errors: io.errors };
}

/** Verifies Mailroom-Signature the way a receiver should (README, Webhooks). */
function signatureValid(request: ReceivedWebhook, secret: string, now = Date.now()): boolean {
  const header = String(request.headers['mailroom-signature'] ?? '');
  const parts = Object.fromEntries(header.split(',').map((part) => part.split('=') as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(now / 1000 - t) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${parts.t}.${request.body}`).digest();
  const given = Buffer.from(parts.v1 ?? '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const delivered = (r: WebhookReceiver) => r.received.filter((request) => request.status !== null && request.status < 300);

describe('webhooks', () => {
  it('sends ticket.created and article.added for a new mail, signed with the secret', async () => {
    const crm = await receiver();
    const t = await app(rulesWith([{ id: 'crm', url: crm.url, events: ['ticket.created', 'article.added'] }]));
    await customerWrites(t, 'ana@client.example', 'Printer on fire');
    await waitFor(() => crm.received.length >= 2 || undefined, 'two webhook requests');

    expect(crm.received.map((r) => r.json.type).sort()).toEqual(['article.added', 'ticket.created']);
    for (const request of crm.received) {
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['mailroom-event-id']).toBe(request.json.id);
      expect(signatureValid(request, SECRET)).toBe(true);
      expect(signatureValid(request, 'another-secret-0123456789abcdef')).toBe(false);
      expect(request.json.ticket).toMatchObject({ subject: 'Printer on fire', status: 'new', mailbox: 'soporte@example.com', requester: 'ana@client.example' });
      expect(typeof request.json.ticket!.number).toBe('number');
    }
    const article = crm.received.find((r) => r.json.type === 'article.added')!;
    expect(article.json.data).toMatchObject({ direction: 'inbound', from: 'ana@client.example' });
    // a tampered body no longer matches its signature
    expect(signatureValid({ ...article, body: article.body.replace('Printer', 'Scanner') }, SECRET)).toBe(false);

    await waitFor(async () => {
      const list = JSON.parse((await cli(t, 'webhooks', 'list', '--json')).text) as { webhooks: Array<{ id: string; delivered: number; pending: number }> };
      return list.webhooks[0]?.delivered === 2 || undefined;
    }, 'both deliveries recorded as delivered');
    const log = await cli(t, 'webhooks', 'log', 'crm', '--json');
    expect(log.code).toBe(0);
    const rows = (JSON.parse(log.text) as { deliveries: Array<{ id: number; eventId: string; state: string; attempts: number }> }).deliveries;
    expect(rows.map((row) => row.state)).toEqual(['delivered', 'delivered']);
    expect(rows[0]!.id).toBeGreaterThan(rows[1]!.id);
    expect(rows.map((row) => row.eventId).sort()).toEqual(crm.received.map((r) => r.json.id).sort());
    expect((await cli(t, 'webhooks', 'log', 'nobody')).code).toBe(1);
    const table = (await cli(t, 'webhooks', 'list')).text;
    expect(table).toMatch(/^ID\s+URL\s+EVENTS\s+PENDING\s+DELIVERED\s+FAILED/);
    expect(table).toMatch(/crm\s+\S+\s+ticket\.created,article\.added\s+0\s+2\s+0/);
  });

  it('sends only the events a webhook follows', async () => {
    const statuses = await receiver();
    const everything = await receiver();
    const t = await app(
      rulesWith([
        { id: 'statuses', url: statuses.url, events: ['status.changed'] },
        { id: 'everything', url: everything.url, events: ['*'] },
      ]),
    );
    await customerWrites(t, 'bea@client.example', 'Where is my order');
    await waitFor(() => everything.received.some((r) => r.json.type === 'article.added') || undefined, 'the article to reach the catch-all webhook');
    expect(statuses.received).toEqual([]);

    const number = everything.received.find((r) => r.json.type === 'ticket.created')!.json.ticket!.number as number;
    expect((await cli(t, 'tickets', 'status', String(number), 'solved')).code).toBe(0);
    await waitFor(() => statuses.received.length >= 1 || undefined, 'the status change');
    expect(statuses.received.map((r) => [r.json.type, r.json.data.from, r.json.data.to])).toEqual([['status.changed', 'new', 'solved']]);
  });

  it('tells about a bounce matched to nothing', async () => {
    const ops = await receiver();
    const t = await app(rulesWith([{ id: 'ops', url: ops.url, events: ['bounce.unmatched'] }]));
    const report = buildDsn({ to: 'soporte@example.com', originalMessageId: 'someone-else@elsewhere.example', recipients: [{ address: 'x@client.example', action: 'failed', status: '5.1.1', diagnostic: '550 5.1.1 unknown' }] });
    const sent = await t.send({ from: '', to: ['soporte@example.com'] }, report);
    await waitForInbound(t, queuedId(sent));
    await waitFor(() => ops.received.length >= 1 || undefined, 'the unmatched bounce');
    expect(ops.received[0]!.json).toMatchObject({ type: 'bounce.unmatched', ticket: null, data: { kind: 'bounce', unmatchedReason: 'unknown_delivery' } });
    expect(ops.received[0]!.json.id).toMatch(/^bounce_\d+$/);
  });

  it('retries a receiver that fails for a while and delivers each event once', async () => {
    const crm = await receiver();
    let failuresLeft = 3;
    crm.answer = () => (failuresLeft-- > 0 ? 500 : 200);
    const t = await app(rulesWith([{ id: 'crm', url: crm.url, events: ['ticket.created'], secretLine: 'secret_env: CRM_WEBHOOK_SECRET' }]), { CRM_WEBHOOK_SECRET: SECRET });
    await customerWrites(t, 'carl@client.example', 'Invoice twice');
    await waitFor(() => delivered(crm).length >= 1 || undefined, 'the delivery after the failures');
    expect(crm.received.map((r) => r.status)).toEqual([500, 500, 500, 200]);
    expect(new Set(crm.received.map((r) => r.json.id)).size).toBe(1);
    expect(signatureValid(delivered(crm)[0]!, SECRET)).toBe(true);
    const [row] = await waitFor(async () => {
      const rows = await t.db.select().from(webhookDeliveries);
      return rows[0]?.state === 'delivered' ? rows : undefined;
    }, 'the row delivered');
    expect(row).toMatchObject({ attempts: 4, lastStatusCode: 200, lastError: null });
    // nothing more is sent for it
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(crm.received).toHaveLength(4);
    const metrics = await (await fetch(`http://127.0.0.1:${t.httpPort}/metrics`)).text();
    expect(metrics).toContain('mailroom_webhook_deliveries_total{result="retried"} 3');
    expect(metrics).toContain('mailroom_webhook_deliveries_total{result="delivered"} 1');
  });

  it('marks a delivery failed at the end of its lifetime, and sends it again on webhooks retry', async () => {
    const crm = await receiver();
    crm.answer = () => 503;
    const t = await app(rulesWith([{ id: 'crm', url: crm.url, events: ['ticket.created'] }]), { MAILROOM_WEBHOOK_MAX_AGE: '1s' });
    await customerWrites(t, 'dora@client.example', 'Gone for good');
    const failedRow = await waitFor(async () => (await t.db.select().from(webhookDeliveries)).find((row) => row.state === 'failed'), 'the delivery to fail');
    expect(failedRow.lastError).toMatch(/HTTP 503/);
    const list = JSON.parse((await cli(t, 'webhooks', 'list', '--json')).text) as { webhooks: Array<{ failed: number; lastError: string }> };
    expect(list.webhooks[0]).toMatchObject({ failed: 1, lastError: expect.stringMatching(/503/) as unknown as string });

    crm.answer = () => 200;
    const retry = await cli(t, 'webhooks', 'retry', 'crm', '--json');
    expect(JSON.parse(retry.text)).toEqual({ webhook: 'crm', retried: [failedRow.id] });
    await waitFor(async () => {
      const [row] = await t.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, failedRow.id));
      return row?.state === 'delivered' || undefined;
    }, 'the retried delivery recorded');
    expect(delivered(crm)).toHaveLength(1);
  });

  it('does not follow a redirect: the delivery stays pending with its status', async () => {
    const moved = await receiver();
    const elsewhere = await receiver();
    moved.answer = () => ({ status: 307, headers: { Location: elsewhere.url } });
    const t = await app(rulesWith([{ id: 'crm', url: moved.url, events: ['ticket.created'] }]));
    await customerWrites(t, 'fay@client.example', 'Moved away');
    await waitFor(() => moved.received.length >= 2 || undefined, 'a retry after the redirect');
    expect(elsewhere.received).toEqual([]);
    const [row] = await t.db.select().from(webhookDeliveries);
    expect(row).toMatchObject({ state: 'pending', lastStatusCode: 307 });
  });

  it('sends a delivery cut short by a restart once the daemon is back', async () => {
    const crm = await receiver();
    crm.answer = () => 'hang';
    const t = await app(rulesWith([{ id: 'crm', url: crm.url, events: ['ticket.created'] }]), { MAILROOM_WEBHOOK_TIMEOUT: '1s' });
    await customerWrites(t, 'eve@client.example', 'Mid-flight');
    await waitFor(() => crm.received.length >= 1 || undefined, 'the first POST to arrive');
    crm.answer = () => 200;
    await t.restart();
    const [row] = await waitFor(async () => {
      const rows = await t.db.select().from(webhookDeliveries);
      return rows[0]?.state === 'delivered' ? rows : undefined;
    }, 'the delivery after the restart recorded', 15_000);
    expect(row).toMatchObject({ state: 'delivered', attempts: 2 });
    expect(crm.received).toHaveLength(2);
    expect(crm.received[1]!.json.id).toBe(crm.received[0]!.json.id);
  });
});

describe('webhooks in the rules file', () => {
  const base = ['mailboxes:', '  - address: soporte@example.com', '    name: Soporte', 'webhooks:'];

  it.each([
    ['a URL that is not http', ['  - id: crm', '    url: ftp://crm.example/hook', '    events: [ticket.created]', `    secret: ${SECRET}`], 'webhooks[0].url', 6],
    ['an unknown event', ['  - id: crm', '    url: https://crm.example/hook', '    events: [ticket.deleted]', `    secret: ${SECRET}`], 'webhooks[0].events[0]', 7],
    ['a short secret', ['  - id: crm', '    url: https://crm.example/hook', '    events: ["*"]', '    secret: short'], 'webhooks[0].secret', 8],
    ['no secret at all', ['  - id: crm', '    url: https://crm.example/hook', '    events: ["*"]'], 'webhooks[0]', 5],
  ])('rejects %s with its line', (_, lines, problemPath, line) => {
    const result = loadRuleSet([...base, ...lines].join('\n'), 'rules.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toContainEqual(expect.objectContaining({ path: problemPath, line }));
  });

  it('accepts secret_env instead of a secret, and no webhooks at all', () => {
    const withEnv = loadRuleSet([...base, '  - id: crm', '    url: https://crm.example/hook', '    events: ["*"]', '    secret_env: CRM_SECRET'].join('\n'), 'rules.yaml');
    expect(withEnv.ok && withEnv.ruleSet.webhooks).toEqual([{ id: 'crm', url: 'https://crm.example/hook', events: ['*'], secret_env: 'CRM_SECRET' }]);
    const none = loadRuleSet(base.slice(0, 3).join('\n'), 'rules.yaml');
    expect(none.ok && none.ruleSet.webhooks).toEqual([]);
  });
});
