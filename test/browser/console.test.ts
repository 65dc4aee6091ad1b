import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTicketByNumber } from '../../db/tickets.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { ticketDetail } from '../helpers/queries.js';
import { waitFor } from '../helpers/wait.js';
import { launchBrowser } from '../helpers/browser.js';
import { ticketOfInbound, waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';

/*
 * The web console in a real Chromium: an agent logs in with a token, finds the ticket in the
 * queue and reads it; whatever a customer writes is shown, never run.
 */
const TOKEN = 'console-test-token-0123456789abcdef';
const READ_TOKEN = 'console-read-token-0123456789abcdef';
let t: TestApp;
let sink: SmtpSink;
let browser: Browser;
let tokensFile = '';
beforeAll(async () => {
  sink = await startSmtpSink();
  tokensFile = path.join((await import('node:os')).tmpdir(), `mailroom-console-tokens-${process.pid}.yaml`);
  writeFileSync(tokensFile, `- name: maria\n  role: agent\n  token: ${TOKEN}\n- name: auditor\n  role: read\n  token: ${READ_TOKEN}\n`);
  t = await startTestApp({ env: { MAILROOM_API_TOKENS_FILE: tokensFile, MAILROOM_SMTP_RELAY: sink.url } });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  rmSync(tokensFile, { force: true });
  await sink?.close();
});

const base = () => `http://127.0.0.1:${t.httpPort}`;

async function loggedIn(token = TOKEN): Promise<Page> {
  const page = await browser.newPage({ acceptDownloads: true });
  await page.goto(`${base()}/tickets`);
  expect(new URL(page.url()).pathname).toBe('/login');
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${base()}/tickets`);
  return page;
}

/** Set by any script a customer manages to run; the tests assert it never is. */
const XSS_FLAG = 'window.__mailroomXss = 1';

describe('the web console', () => {
  it('logs in with a token into an HttpOnly, SameSite=Strict cookie, and refuses a wrong one', async () => {
    const page = await browser.newPage();
    await page.goto(`${base()}/login`);
    await page.getByLabel('API token').fill('not-a-token-at-all-not-a-token');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('not valid');

    const good = await loggedIn();
    const [cookie] = await good.context().cookies();
    expect(cookie).toMatchObject({ name: 'mailroom_session', httpOnly: true, sameSite: 'Strict' });
    expect(await good.evaluate(() => document.cookie)).toBe('');
    await good.getByRole('button', { name: /^Log out/ }).click();
    await good.waitForURL(`${base()}/login`);
    await good.goto(`${base()}/tickets`);
    expect(new URL(good.url()).pathname).toBe('/login');
  });

  it('shows the queue and a ticket, rendering hostile subjects, names and bodies as text', async () => {
    const subject = `<img src=x onerror="${XSS_FLAG}">Factura <script>${XSS_FLAG}</script>`;
    const sent = await t.send(
      { from: 'ana@cliente.es', to: ['soporte@example.com'] },
      rawMessage({ from: `"<b onmouseover='${XSS_FLAG}'>Ana</b>" <ana@cliente.es>`, subject, body: `Hola <script>${XSS_FLAG}</script><svg onload="${XSS_FLAG}">` }),
    );
    const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(sent)));
    const page = await loggedIn();
    const response = await page.goto(`${base()}/tickets`);
    expect(response!.headers()['content-security-policy']).toMatch(/script-src 'self'/);
    expect(response!.headers()['content-security-policy']).not.toContain('unsafe-inline');
    const link = page.getByRole('link', { name: /Factura/ });
    await expect(link.textContent()).resolves.toContain('<img src=x');
    await link.click();
    await page.waitForURL(`${base()}/tickets/${ticket.number}`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain(`#${ticket.number}`);
    await expect(page.locator('article.mail').first().textContent()).resolves.toContain('<script>');
    await page.mouse.move(10, 10);
    expect(await page.evaluate(() => (window as unknown as { __mailroomXss?: number }).__mailroomXss)).toBeUndefined();
    expect(await page.locator('script:not([src])').count()).toBe(0);
  });

  it('refuses a form posted from another site or without its anti-forgery field', async () => {
    const page = await loggedIn();
    // The browser's own cookie goes with these requests; only the origin and the field differ.
    const forged = await page.request.post(`${base()}/logout`, { headers: { origin: 'http://evil.example' }, form: { csrf: 'whatever' } });
    expect(forged.status()).toBe(403);
    const noField = await page.request.post(`${base()}/logout`, { headers: { origin: base() }, form: {} });
    expect(noField.status()).toBe(403);
    await page.goto(`${base()}/tickets`);
    expect(new URL(page.url()).pathname).toBe('/tickets');
  });

  it('sends an agent reply with a status from the ticket page; a read token gets no form and cannot post one', async () => {
    const sent = await t.send({ from: 'rosa@cliente.es', to: ['soporte@example.com'] }, rawMessage({ from: 'rosa@cliente.es', subject: 'No puedo entrar', body: 'Hola' }));
    const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(sent)));
    const page = await loggedIn();
    await page.goto(`${base()}/tickets/${ticket.number}`);
    await page.getByLabel(/Reply to rosa@cliente.es/).fill('Hola Rosa, ya está resuelto.');
    await page.getByLabel('Status afterwards').selectOption('solved');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await expect(page.getByRole('status').textContent()).resolves.toMatch(/Reply queued as delivery \d+/);
    await waitFor(() => sink.mails.find((m) => m.rcptTo.includes('rosa@cliente.es') && m.message.text.includes('ya está resuelto')), 'the reply at the relay');
    expect((await findTicketByNumber(t.db, ticket.number))!.status).toBe('solved');
    expect((await ticketDetail(t, ticket.id)).events.find((e) => e.type === 'agent.replied')?.data).toMatchObject({ by: 'maria' });

    // A long answer is sent, not refused as a forgery (forms are otherwise read up to 16 KiB).
    const long = `Pasos: ${'revise la configuración y vuelva a intentarlo. '.repeat(800)}fin.`;
    await page.goto(`${base()}/tickets/${ticket.number}`);
    await page.getByLabel(/Reply to rosa@cliente.es/).fill(long);
    await page.getByRole('button', { name: 'Send reply' }).click();
    await expect(page.getByRole('status').textContent()).resolves.toMatch(/Reply queued as delivery \d+/);
    const tooBig = await page.request.post(`${base()}/tickets/${ticket.number}/reply`, {
      headers: { origin: base() },
      form: { csrf: /name="csrf" value="([^"]+)"/.exec(await page.content())![1]!, body: 'x'.repeat(1_100_000) },
    });
    expect([tooBig.status(), await tooBig.text()]).toEqual([413, expect.stringContaining('larger than 1 MB')]);

    const reader = await loggedIn(READ_TOKEN);
    await reader.goto(`${base()}/tickets/${ticket.number}`);
    expect(await reader.getByRole('button', { name: 'Send reply' }).count()).toBe(0);
    const html = await reader.content();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const posted = await reader.request.post(`${base()}/tickets/${ticket.number}/reply`, { headers: { origin: base() }, form: { csrf, body: 'Not allowed' } });
    expect(posted.status()).toBe(403);
  });

  it('shows a failed recipient in red with its SMTP code, lists it under failures and exports the CSV', async () => {
    sink.rcptReplies.set('nadie@cliente.es', [550, '5.1.1 <nadie@cliente.es>: Recipient address rejected: User unknown']);
    const sent = await t.send({ from: 'nadie@cliente.es', to: ['soporte@example.com'] }, rawMessage({ from: 'nadie@cliente.es', subject: 'Rebote', body: 'Hola' }));
    const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(sent)));
    const page = await loggedIn();
    await page.goto(`${base()}/tickets/${ticket.number}`);
    // The agent's answer is what the relay refuses (these rules send no acknowledgement).
    await page.getByLabel(/Reply to nadie@cliente.es/).fill('Le respondemos.');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await waitFor(async () => ((await ticketDetail(t, ticket.id)).events.some((e) => e.type === 'delivery.failed') ? true : undefined), 'the refusal recorded');
    await page.reload();
    const cell = page.locator('td.failed', { hasText: 'failed' }).first();
    expect(await cell.evaluate((element) => getComputedStyle(element).color)).toBe('rgb(164, 22, 26)');
    await expect(page.locator('tr', { hasText: 'nadie@cliente.es' }).first().textContent()).resolves.toContain('550 5.1.1');

    await page.getByRole('link', { name: 'Failures' }).click();
    await page.getByLabel('Ticket').fill(String(ticket.number));
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(page.locator('tbody tr').count()).resolves.toBe(1);
    await expect(page.locator('tbody').textContent()).resolves.toContain('nadie@cliente.es');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.startsWith('\uFEFFat,ticket,')).toBe(true);
    expect(csv).toContain('nadie@cliente.es');
    expect(csv.split('\r\n').filter(Boolean)).toHaveLength(2);
  });

  it('shows which rules serve and, after a rejected edit, each problem with its line and column', async () => {
    const page = await loggedIn();
    await page.getByRole('link', { name: 'Rules' }).click();
    await expect(page.getByRole('status').textContent()).resolves.toContain('The file on disk is in force');
    await expect(page.locator('main').textContent()).resolves.toContain('soporte@example.com');
    const good = readFileSync(t.rulesFile, 'utf8');
    writeFileSync(t.rulesFile, `${good}\nunknown_section: 1\n`);
    try {
      expect(await t.app.reloadRules()).toBe(false);
      await page.reload();
      const alert = await page.getByRole('alert').textContent();
      expect(alert).toContain('was rejected; the last good rules stay in force');
      expect(alert).toMatch(/rules\.yaml:\d+:\d+/);
      expect(alert).toContain('unknown_section');
    } finally {
      writeFileSync(t.rulesFile, good);
      await t.app.reloadRules();
    }
  });

  it('shows an image attachment as a thumbnail, offers every attachment as a download, and never renders an HTML one', async () => {
    const pixel = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';
    const raw = [
      'From: luz@cliente.es',
      'To: soporte@example.com',
      'Subject: Captura del error',
      'Message-ID: <captura.1@cliente.es>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Adjunto la captura.',
      '--b1',
      'Content-Type: image/png; name="captura.png"',
      'Content-Disposition: attachment; filename="captura.png"',
      'Content-Transfer-Encoding: base64',
      '',
      pixel,
      '--b1',
      'Content-Type: text/html; charset=utf-8',
      'Content-Disposition: attachment; filename="<img src=x onerror=alert(1)>.html"',
      '',
      `<script>${XSS_FLAG}</script>`,
      '--b1--',
      '',
    ].join('\r\n');
    const sent = await t.send({ from: 'luz@cliente.es', to: ['soporte@example.com'] }, raw);
    const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(sent)));
    const page = await loggedIn();
    await page.goto(`${base()}/tickets/${ticket.number}`);
    const thumbnail = page.getByRole('img', { name: 'captura.png' });
    await thumbnail.waitFor();
    await expect.poll(() => thumbnail.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(1);
    const htmlLink = page.getByRole('link', { name: /\.html/ });
    await expect(htmlLink.textContent()).resolves.toContain('<img src=x');
    const href = await htmlLink.getAttribute('href');
    const served = await page.request.get(`${base()}${href}`);
    expect(served.headers()['content-type']).toBe('application/octet-stream');
    expect(served.headers()['content-disposition']).toMatch(/^attachment;/);
    expect(await page.evaluate(() => (window as unknown as { __mailroomXss?: number }).__mailroomXss)).toBeUndefined();
    const anonymous = await browser.newPage();
    const refused = await anonymous.request.get(`${base()}${href}`, { maxRedirects: 0 });
    expect(refused.status()).toBe(303);
    await anonymous.close();
  });
});
