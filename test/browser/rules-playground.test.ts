import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';

/*
 * The rules playground in a real Chromium: an admin pastes a mail and sees what the daemon would
 * decide and send; whatever the mail says is shown, never run; other roles get no form.
 */
const ADMIN = 'playground-admin-token-0123456789abcdef';
const AGENT = 'playground-agent-token-0123456789abcdef';
const XSS_FLAG = 'window.__mailroomXss = 1';
let t: TestApp;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mailroom-playground-'));
  const tokensFile = path.join(dir, 'tokens.yaml');
  writeFileSync(tokensFile, `- name: root\n  role: admin\n  token: ${ADMIN}\n- name: maria\n  role: agent\n  token: ${AGENT}\n`);
  t = await startTestApp({ rules: 'account-number.yaml', env: { MAILROOM_API_TOKENS_FILE: tokensFile } });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

const base = () => `http://127.0.0.1:${t.httpPort}`;

async function rulesPageAs(token: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${base()}/login`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${base()}/tickets`);
  await page.goto(`${base()}/rules`);
  return page;
}

describe('the rules playground', () => {
  it('shows an admin the missing account number and the request mail, with hostile text rendered inert', async () => {
    const subject = `<img src=x onerror="${XSS_FLAG}">Invoice <script>${XSS_FLAG}</script>`;
    const mail = rawMessage({ from: `"<b onmouseover='${XSS_FLAG}'>Ana</b>" <ana@client.example>`, to: 'desk@example.com', subject, body: `My invoice is wrong <svg onload="${XSS_FLAG}">` });
    const page = await rulesPageAs(ADMIN);
    await page.getByLabel(/Raw mail/).fill(mail);
    await page.getByRole('button', { name: 'Try the rules' }).click();
    await page.waitForURL(`${base()}/rules/playground`);

    const missing = page.getByRole('region', { name: 'Details missing' });
    await expect(missing.textContent()).resolves.toContain('account number');
    await expect(missing.textContent()).resolves.toContain('the six digits on your invoice');
    const sent = page.getByRole('region', { name: 'Mail that would be sent' });
    await expect(sent.locator('.subject').textContent()).resolves.toBe(`Received: ${subject} [#1000]`);
    await expect(sent.locator('pre').textContent()).resolves.toContain('- account number: the six digits on your invoice');
    await expect(sent.textContent()).resolves.toContain('ana@client.example');
    await expect(page.getByRole('region', { name: 'Decision' }).textContent()).resolves.toContain('Billing');

    await page.mouse.move(10, 10);
    expect(await page.evaluate(() => (window as unknown as { __mailroomXss?: number }).__mailroomXss)).toBeUndefined();
    expect(await page.locator('script:not([src])').count()).toBe(0);
    expect(await page.locator('main img, main svg, main b').count()).toBe(0);
  }, 60_000);

  it('says why a mail without headers cannot be tried, keeping what was typed', async () => {
    const page = await rulesPageAs(ADMIN);
    await page.getByLabel(/Raw mail/).fill('just some words');
    await page.getByRole('button', { name: 'Try the rules' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/cannot be parsed/);
    await expect(page.getByLabel(/Raw mail/).inputValue()).resolves.toBe('just some words');
  });

  it('gives an agent the rules page without the form, and refuses its post', async () => {
    const page = await rulesPageAs(AGENT);
    await expect(page.getByRole('heading', { name: 'Mailboxes' }).count()).resolves.toBe(1);
    expect(await page.getByRole('button', { name: 'Try the rules' }).count()).toBe(0);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.content())![1]!;
    const posted = await page.request.post(`${base()}/rules/playground`, { headers: { origin: base() }, form: { csrf, message: 'From: a@b.example\r\n\r\nx' } });
    expect(posted.status()).toBe(403);
  });
});
