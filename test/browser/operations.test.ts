import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suppressContact, suppressionOf } from '../../db/bounces.js';
import { getInbound, insertInbound } from '../../db/inbound.js';
import { launchBrowser } from '../helpers/browser.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

/*
 * The operations page in a real Chromium: spool counts, a failed row replayed with its button
 * (admin), a suppression lifted with its button (agent), and a read token that sees no buttons
 * and is refused when it posts anyway.
 */
const TOKENS = {
  admin: 'ops-console-admin-0123456789abcdef',
  agent: 'ops-console-agent-0123456789abcdef',
  read: 'ops-console-read-0123456789abcdefg',
};
let t: TestApp;
let browser: Browser;
let tokensDir: string;
let failedId: number;

beforeAll(async () => {
  tokensDir = mkdtempSync(path.join(os.tmpdir(), 'mailroom-ops-console-'));
  const tokensFile = path.join(tokensDir, 'tokens.yaml');
  writeFileSync(tokensFile, Object.entries(TOKENS).map(([role, token]) => `- name: ${role}-person\n  role: ${role}\n  token: ${token}\n`).join(''));
  t = await startTestApp({ env: { MAILROOM_API_TOKENS_FILE: tokensFile } });
  browser = await launchBrowser();
  // A row that failed for a reason since gone (a database outage, say): a replay files it.
  const raw = Buffer.from(rawMessage({ from: 'eva@cliente.es', subject: 'Reintento', body: 'Hola.' }));
  const envelope = { mailFrom: 'eva@cliente.es', rcptTo: ['soporte@example.com'], clientAddress: '127.0.0.1', clientHelo: 'x', tls: false, receivedAt: new Date() };
  failedId = await insertInbound(t.db, envelope, raw, createHash('sha256').update(raw).digest('hex'));
  await t.db.execute(sql`update inbound_messages set state = 'failed', last_error = 'database went away' where id = ${failedId}`);
  await suppressContact(t.db, 'gone@remote.example', 'userunknown');
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  rmSync(tokensDir, { recursive: true, force: true });
});

const base = () => `http://127.0.0.1:${t.httpPort}`;

async function operationsAs(token: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${base()}/login`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${base()}/tickets`);
  await page.getByRole('link', { name: 'Operations' }).click();
  await page.waitForURL(`${base()}/operations`);
  return page;
}

describe('the operations page', () => {
  it('shows the spool counts and queue depths, and replays a failed row with its button (admin)', async () => {
    const page = await operationsAs(TOKENS.admin);
    expect(await page.locator('td[data-state="failed"]').textContent()).toBe('1');
    expect(await page.getByRole('heading', { name: 'Queues' }).isVisible()).toBe(true);
    expect(await page.getByRole('cell', { name: 'mailroom-inbound' }).count()).toBe(1);
    expect(await page.getByRole('cell', { name: 'database went away' }).isVisible()).toBe(true);

    await page.getByRole('button', { name: `Replay row ${failedId}` }).click();
    await page.waitForURL(`${base()}/operations?replayed=${failedId}`);
    expect(await page.getByRole('status').textContent()).toContain(`Row ${failedId} queued`);
    const row = await waitFor(async () => {
      const found = await getInbound(t.db, failedId);
      return found?.state === 'processed' ? found : null;
    }, 'the replayed row processed', 30_000);
    expect(row.ticketId).not.toBeNull();
    await page.reload();
    expect(await page.locator('td[data-state="failed"]').textContent()).toBe('0');
    expect(await page.locator('td[data-state="processed"]').textContent()).toBe('1');
  });

  it('lets an agent remove a suppression with its button, without any Replay button', async () => {
    await suppressContact(t.db, 'maybe@remote.example', 'mailboxfull');
    await t.db.execute(sql`update inbound_messages set state = 'failed', last_error = 'disk full' where id = ${failedId}`);
    const page = await operationsAs(TOKENS.agent);
    expect(await page.getByRole('button', { name: /^Replay/ }).count()).toBe(0);
    await page.getByRole('button', { name: 'Remove gone@remote.example' }).click();
    await page.waitForURL(/\/operations\?removed=/);
    expect(await page.getByRole('status').textContent()).toContain('gone@remote.example removed');
    expect((await suppressionOf(t.db, 'gone@remote.example')).suppressed).toBe(false);
    expect(await page.getByRole('cell', { name: 'gone@remote.example' }).count()).toBe(0);
    expect((await suppressionOf(t.db, 'maybe@remote.example')).suppressed).toBe(true);
  });

  it('shows a read token the lists without buttons, and refuses its posts with 403', async () => {
    const page = await operationsAs(TOKENS.read);
    expect(await page.getByRole('cell', { name: 'maybe@remote.example' }).isVisible()).toBe(true);
    expect(await page.getByRole('cell', { name: 'disk full' }).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: /^(Replay|Remove)/ }).count()).toBe(0);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.content())![1]!;
    const replay = await page.request.post(`${base()}/operations/spool/${failedId}/replay`, { headers: { origin: base() }, form: { csrf } });
    expect(replay.status()).toBe(403);
    const remove = await page.request.post(`${base()}/operations/suppressions/remove`, { headers: { origin: base() }, form: { csrf, address: 'maybe@remote.example' } });
    expect(remove.status()).toBe(403);
    expect((await suppressionOf(t.db, 'maybe@remote.example')).suppressed).toBe(true);
    expect((await getInbound(t.db, failedId))?.state).toBe('failed');
  });
});
