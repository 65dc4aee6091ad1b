import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suppressionOf } from '../../db/bounces.js';
import { listTicketDeliveries } from '../../db/deliveries.js';
import { findTicketByNumber, listTicketEvents } from '../../db/tickets.js';
import { launchBrowser } from '../helpers/browser.js';
import { ticketOfInbound, waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';
import { rulesWith } from '../helpers/webhook-kit.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/*
 * The console's internal notes, the Resend button of the failures page and the webhooks page,
 * in a real Chromium against the real daemon (mail out to an SMTP sink, webhooks to a real HTTP
 * receiver): what each role sees, what it may post, and that a note is shown, never run or sent.
 */
const TOKENS = {
  admin: 'ops2-console-admin-0123456789abcdef',
  agent: 'ops2-console-agent-0123456789abcdef',
  read: 'ops2-console-read-0123456789abcdefg',
};
/** Set by any script a note manages to run; the tests assert it never is. */
const XSS_FLAG = 'window.__mailroomXss = 1';

let t: TestApp;
let sink: SmtpSink;
let hooks: WebhookReceiver;
let browser: Browser;
let tokensDir: string;

beforeAll(async () => {
  sink = await startSmtpSink();
  hooks = await startWebhookReceiver();
  tokensDir = mkdtempSync(path.join(os.tmpdir(), 'mailroom-ops2-console-'));
  const tokensFile = path.join(tokensDir, 'tokens.yaml');
  writeFileSync(tokensFile, Object.entries(TOKENS).map(([role, token]) => `- name: ${role}-person\n  role: ${role}\n  token: ${token}\n`).join(''));
  t = await startTestApp({
    rules: rulesWith([{ id: 'crm', url: hooks.url, events: ['ticket.created'] }]),
    env: {
      MAILROOM_API_TOKENS_FILE: tokensFile,
      MAILROOM_SMTP_RELAY: sink.url,
      MAILROOM_WEBHOOK_POLL_INTERVAL: '50ms',
      MAILROOM_WEBHOOK_RETRY_MIN: '100ms',
      MAILROOM_WEBHOOK_RETRY_MAX: '200ms',
      MAILROOM_WEBHOOK_MAX_AGE: '1s',
    },
  });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  await sink?.close();
  await hooks?.close();
  rmSync(tokensDir, { recursive: true, force: true });
});

const base = () => `http://127.0.0.1:${t.httpPort}`;

async function loggedIn(token: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${base()}/login`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${base()}/tickets`);
  return page;
}

async function ticketFrom(address: string, subject: string) {
  const sent = await t.send({ from: address, to: ['soporte@example.com'] }, rawMessage({ from: address, subject, body: 'Hola.' }));
  return ticketOfInbound(t, await waitForInbound(t, queuedId(sent)));
}

const csrfOf = async (page: Page) => /name="csrf" value="([^"]+)"/.exec(await page.content())![1]!;

describe('internal notes on the ticket page', () => {
  it('lets an agent add a note, shown apart and labelled as not sent, that no mail carries', async () => {
    const ticket = await ticketFrom('marta@cliente.es', 'Factura duplicada');
    const mailsBefore = sink.mails.length;
    const page = await loggedIn(TOKENS.agent);
    await page.goto(`${base()}/tickets/${ticket.number}`);
    await page.getByLabel(/Note for agents only/).fill('Llamé a Marta: reenviará la factura.');
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.waitForURL(`${base()}/tickets/${ticket.number}?noted=1`);
    expect(await page.getByRole('status').textContent()).toContain('not sent to anyone');
    const note = page.getByRole('complementary', { name: 'Internal note by agent-person' });
    expect(await note.textContent()).toContain('Internal note — not sent');
    expect(await note.textContent()).toContain('Llamé a Marta: reenviará la factura.');
    // Set apart from the mail around it, not only by its words.
    expect(await note.evaluate((element) => getComputedStyle(element).borderTopStyle)).toBe('dashed');
    expect(await note.evaluate((element) => getComputedStyle(element).backgroundColor)).not.toBe(await page.locator('article.mail').first().evaluate((element) => getComputedStyle(element).backgroundColor));
    expect((await findTicketByNumber(t.db, ticket.number))!.status).toBe(ticket.status);
    expect(await listTicketDeliveries(t.db, ticket.id)).toEqual([]);
    expect(sink.mails.length).toBe(mailsBefore);

    // Past the browser's own `required` check, as a script or an old browser would post it.
    await page.getByLabel(/Note for agents only/).fill('   ');
    await page.locator('form[action$="/notes"]').evaluate((form) => (form as HTMLFormElement).submit());
    await page.waitForURL(`${base()}/tickets/${ticket.number}/notes`);
    expect(await page.getByRole('alert').textContent()).toContain('The note is empty.');
  });

  it('renders a hostile note as text, never runs it', async () => {
    const ticket = await ticketFrom('pablo@cliente.es', 'Nota peligrosa');
    const page = await loggedIn(TOKENS.agent);
    await page.goto(`${base()}/tickets/${ticket.number}`);
    const hostile = `<img src=x onerror="${XSS_FLAG}"><script>${XSS_FLAG}</script>`;
    await page.getByLabel(/Note for agents only/).fill(hostile);
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.waitForURL(/noted=1/);
    const note = page.getByRole('complementary', { name: /Internal note/ });
    expect(await note.locator('pre').textContent()).toBe(hostile);
    expect(await note.locator('img').count()).toBe(0);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __mailroomXss?: number }).__mailroomXss)).toBeUndefined();
  });

  it('gives a read token no note form, and refuses its post (403) as it refuses one from another site', async () => {
    const ticket = await ticketFrom('ines@cliente.es', 'Solo lectura');
    const reader = await loggedIn(TOKENS.read);
    await reader.goto(`${base()}/tickets/${ticket.number}`);
    expect(await reader.getByRole('button', { name: 'Add note' }).count()).toBe(0);
    const posted = await reader.request.post(`${base()}/tickets/${ticket.number}/notes`, { headers: { origin: base() }, form: { csrf: await csrfOf(reader), text: 'Not allowed' } });
    expect(posted.status()).toBe(403);
    const agent = await loggedIn(TOKENS.agent);
    const forged = await agent.request.post(`${base()}/tickets/${ticket.number}/notes`, { headers: { origin: 'http://evil.example' }, form: { csrf: await csrfOf(agent), text: 'Forged' } });
    expect(forged.status()).toBe(403);
    expect((await listTicketEvents(t.db, ticket.id)).filter((e) => e.type === 'note.added')).toEqual([]);
  });
});

describe('resending from the failures page', () => {
  it('refuses a suppressed address until the agent lifts the suppression, then resends and links to the ticket', async () => {
    sink.rcptReplies.set('nadie@cliente.es', [550, '5.1.1 <nadie@cliente.es>: Recipient address rejected: User unknown']);
    const ticket = await ticketFrom('nadie@cliente.es', 'Rebote');
    // The agent's answer is what the relay refuses (these rules send no acknowledgement).
    const replied = await fetch(`${base()}/api/v1/tickets/${ticket.number}/replies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.agent}`, 'content-type': 'application/json' },
      body: JSON.stringify({ body: 'Le respondemos.' }),
    });
    const { deliveryId } = (await replied.json()) as { deliveryId: number };
    await waitFor(async () => (await suppressionOf(t.db, 'nadie@cliente.es')).suppressed || undefined, 'the hard bounce to suppress the address');

    const reader = await loggedIn(TOKENS.read);
    await reader.goto(`${base()}/failures`);
    expect(await reader.getByRole('cell', { name: 'nadie@cliente.es', exact: true }).isVisible()).toBe(true);
    expect(await reader.getByRole('button', { name: /^Resend/ }).count()).toBe(0);
    const refused = await reader.request.post(`${base()}/failures/resend`, { headers: { origin: base() }, form: { csrf: await csrfOf(reader), delivery: String(deliveryId), to: 'nadie@cliente.es' } });
    expect(refused.status()).toBe(403);

    const page = await loggedIn(TOKENS.agent);
    await page.getByRole('link', { name: 'Failures' }).click();
    const resend = page.getByRole('button', { name: `Resend delivery ${deliveryId} to nadie@cliente.es` });
    await resend.click();
    await page.waitForURL(`${base()}/failures/resend`);
    expect(await page.getByRole('alert').textContent()).toBe('Not resent: nadie@cliente.es is suppressed (hard bounce: 550 5.1.1 userunknown). Tick "lift suppression" on its row to lift it and resend.');
    expect((await listTicketDeliveries(t.db, ticket.id)).length).toBe(1);

    sink.rcptReplies.delete('nadie@cliente.es');
    const row = page.locator('tr', { has: page.getByRole('button', { name: `Resend delivery ${deliveryId} to nadie@cliente.es` }) });
    await row.getByLabel('lift suppression').check();
    await row.getByRole('button', { name: /^Resend/ }).click();
    await page.waitForURL(/\/failures\?resent=\d+&resentTicket=\d+/);
    const status = page.getByRole('status');
    expect(await status.textContent()).toMatch(new RegExp(`Resent as delivery \\d+ on ticket #${ticket.number}`));
    expect((await suppressionOf(t.db, 'nadie@cliente.es')).suppressed).toBe(false);
    await waitFor(() => sink.mails.find((m) => m.rcptTo.includes('nadie@cliente.es') && m.message.text.includes('Le respondemos.')), 'the resent mail at the relay');

    await status.getByRole('link', { name: `ticket #${ticket.number}` }).click();
    await page.waitForURL(`${base()}/tickets/${ticket.number}`);
    await waitFor(async () => {
      await page.reload();
      return (await page.locator('tr', { hasText: 'nadie@cliente.es' }).allTextContents()).some((text) => /agent_reply\s*nadie@cliente\.es\s*sent/.test(text)) || undefined;
    }, 'the new delivery shown as sent on the ticket');
    const events = await listTicketEvents(t.db, ticket.id);
    expect(events.find((e) => e.type === 'delivery.resent')?.data).toMatchObject({ of: deliveryId, to: ['nadie@cliente.es'], by: 'agent-person', unsuppressed: ['nadie@cliente.es'] });
  });
});

describe('the webhooks page', () => {
  it('shows an admin each webhook and its deliveries, and retries a failed one with its button', async () => {
    hooks.answer = () => 503;
    const failing = await ticketFrom('webhook@cliente.es', 'Webhook caído');
    await waitFor(async () => {
      const deliveries = await (await fetch(`${base()}/api/v1/webhooks/crm/deliveries?state=failed`, { headers: { authorization: `Bearer ${TOKENS.admin}` } })).json();
      return (deliveries as { deliveries: unknown[] }).deliveries.length > 0 || undefined;
    }, 'the webhook delivery to fail');
    const page = await loggedIn(TOKENS.admin);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.waitForURL(`${base()}/webhooks`);
    const section = page.getByRole('region', { name: 'crm' });
    expect(await section.textContent()).toContain(hooks.url);
    const row = section.locator('tbody tr', { hasText: `#${failing.number}` });
    expect(await row.textContent()).toMatch(/ticket\.created.*failed/s);
    expect(await row.textContent()).toContain('HTTP 503');

    hooks.answer = () => 200;
    const id = (await row.locator('td').first().textContent())!;
    await row.getByRole('button', { name: `Retry delivery ${id}` }).click();
    await page.waitForURL(`${base()}/webhooks?retried=${id}`);
    expect(await page.getByRole('status').textContent()).toContain(`Delivery ${id} is pending again`);
    await waitFor(async () => {
      await page.reload();
      return /delivered/.test((await section.locator('tbody tr', { hasText: `#${failing.number}` }).textContent()) ?? '') || undefined;
    }, 'the retried delivery shown as delivered');
    expect(await section.getByRole('button', { name: /^Retry/ }).count()).toBe(0);
  });

  it('is neither linked nor served for an agent, and refuses its retry post (403)', async () => {
    const page = await loggedIn(TOKENS.agent);
    expect(await page.getByRole('link', { name: 'Webhooks' }).count()).toBe(0);
    const response = await page.goto(`${base()}/webhooks`);
    expect(response!.status()).toBe(403);
    await page.goto(`${base()}/tickets`);
    const retry = await page.request.post(`${base()}/webhooks/deliveries/1/retry`, { headers: { origin: base() }, form: { csrf: await csrfOf(page) } });
    expect(retry.status()).toBe(403);
  });
});
