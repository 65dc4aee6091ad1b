import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { ticketOfInbound, waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';

/*
 * The web console in a real Chromium: an agent logs in with a token, finds the ticket in the
 * queue and reads it; whatever a customer writes is shown, never run.
 */
const TOKEN = 'console-test-token-0123456789abcdef';
let t: TestApp;
let browser: Browser;
beforeAll(async () => {
  t = await startTestApp({ env: { MAILROOM_API_TOKEN: TOKEN } });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const base = () => `http://127.0.0.1:${t.httpPort}`;

async function loggedIn(): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${base()}/tickets`);
  expect(new URL(page.url()).pathname).toBe('/login');
  await page.getByLabel('API token').fill(TOKEN);
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
});
