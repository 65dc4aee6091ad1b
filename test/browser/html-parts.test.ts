import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { htmlMailWithInlineImage, PIXEL_PNG } from '../helpers/html-mail.js';
import { ticketOfInbound, waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

/*
 * The HTML part of a customer's mail in the console, in a real Chromium: shown in a sandboxed
 * frame with its inline image, every script in it inert, and no request to a remote image host
 * until the agent asks for remote images, and no other origin able to frame it. A local HTTP
 * server stands in for the remote host and for the other origin.
 */
const TOKEN = 'html-parts-token-0123456789abcdef';
let t: TestApp;
let browser: Browser;
let tokensFile = '';
let remote: http.Server;
/** Paths the stand-in remote host was asked for. */
const remoteHits: string[] = [];
const remoteBase = () => `http://127.0.0.1:${(remote.address() as AddressInfo).port}`;

beforeAll(async () => {
  remote = http.createServer((req, res) => {
    remoteHits.push(req.url ?? '');
    const framed = /^\/framer\.html\?src=(.+)$/.exec(req.url ?? '')?.[1];
    if (framed) {
      // Another site trying to frame the console's HTML view.
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><iframe src="${decodeURIComponent(framed)}"></iframe>`);
      return;
    }
    res.writeHead(200, { 'content-type': 'image/png' });
    res.end(PIXEL_PNG);
  });
  remote.listen(0, '127.0.0.1');
  await once(remote, 'listening');
  tokensFile = path.join(os.tmpdir(), `mailroom-html-parts-tokens-${process.pid}.yaml`);
  writeFileSync(tokensFile, `- name: maria\n  role: agent\n  token: ${TOKEN}\n`);
  t = await startTestApp({ env: { MAILROOM_API_TOKENS_FILE: tokensFile } });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  rmSync(tokensFile, { force: true });
  remote?.close();
});

const base = () => `http://127.0.0.1:${t.httpPort}`;

async function loggedIn(): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${base()}/login`);
  await page.getByLabel('API token').fill(TOKEN);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${base()}/tickets`);
  return page;
}

/** Set by any script a customer manages to run; each payload also asks the remote host for /xss. */
const XSS = (name: string) => `window.__mailroomXss=1;new Image().src='REMOTE/xss-${name}'`;

function hostileHtml(): string {
  const remoteHost = remoteBase();
  const payload = (name: string) => XSS(name).replaceAll('REMOTE', remoteHost);
  return `<html><head><title>Invoice</title>
<meta http-equiv="refresh" content="0;url=javascript:${payload('refresh')}">
<base href="${remoteHost}/base/">
<style>@import url('${remoteHost}/import.css'); body { background: url('${remoteHost}/bg.png') }</style>
<script>${payload('script')}</script>
</head><body onload="${payload('onload')}">
<p id="greeting">Hello, <b>here is the invoice</b>.</p>
<img id="logo" src="cid:logo.123@client.test" alt="Company logo">
<img src="cid:missing@client.test" alt="missing">
<img id="tracker" src="${remoteHost}/pixel.png" alt="tracker">
<img srcset="${remoteHost}/srcset.png 2x" src="x" onerror="${payload('onerror')}">
<table background="${remoteHost}/table-bg.png"><tr><td style="background-image: url('${remoteHost}/td-bg.png')">cell</td></tr></table>
<svg><script>${payload('svg-script')}</script><image href="${remoteHost}/svg-image.png" onload="${payload('svg-onload')}"/></svg>
<details open ontoggle="${payload('ontoggle')}"><summary>more</summary>text</details>
<iframe srcdoc="<script>parent.${payload('srcdoc')}</script>"></iframe>
<object data="data:text/html,<script>${payload('object')}</script>"></object>
<form action="${remoteHost}/form"><input name="q" autofocus onfocus="${payload('onfocus')}"><button>Send</button></form>
<a id="js-link" href="jav&#x61;script:${payload('href')}">pay here</a>
<a id="good-link" href="https://example.com/invoice">the invoice online</a>
<noscript><p title="</noscript><img src=x onerror=${payload('noscript')}>"></p></noscript>
<div><p><b>unclosed <i>nested</div></b><<script>script>${payload('split')}</script>
</body></html>`;
}

async function xssFlag(frame: Frame): Promise<unknown> {
  // A frame whose sandbox forbids scripts may have no context to evaluate in; that counts as unset.
  return Promise.race([
    frame.evaluate(() => (window as unknown as { __mailroomXss?: number }).__mailroomXss).catch(() => undefined),
    new Promise((resolve) => setTimeout(() => resolve(undefined), 2_000)),
  ]);
}

describe('HTML parts in the console', () => {
  it('shows the HTML part in a sandboxed frame with its inline image; no script runs and no remote host is asked until remote images are requested', async () => {
    const sent = await t.send(
      { from: 'ana@cliente.es', to: ['soporte@example.com'] },
      htmlMailWithInlineImage({ from: 'ana@cliente.es', to: 'soporte@example.com', subject: 'Factura', text: 'Hello, here is the invoice.', html: hostileHtml(), contentId: 'logo.123@client.test' }),
    );
    const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(sent)));
    const page = await loggedIn();
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    const frameHeaders: Array<Record<string, string>> = [];
    page.on('response', (r) => {
      if (/\/articles\/\d+\/html/.test(r.url())) frameHeaders.push(r.headers());
    });
    const response = await page.goto(`${base()}/tickets/${ticket.number}`);
    expect(response!.headers()['content-security-policy']).toContain("frame-src 'self'");

    await page.getByText('HTML version').click();
    const frameElement = page.locator('iframe[title^="HTML version"]');
    expect(await frameElement.getAttribute('sandbox')).not.toContain('allow-scripts');
    const frame = await waitFor(() => page.frames().find((f) => new RegExp(`/tickets/${ticket.number}/articles/\\d+/html$`).test(f.url())), 'the HTML frame');
    const inside = frameElement.contentFrame();
    await expect(inside.getByText('Hello, here is the invoice.').count()).resolves.toBe(1);
    const logo = inside.locator('img[alt="Company logo"]');
    await waitFor(async () => ((await logo.evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0))) > 0 ? true : undefined), 'the inline image to load');
    expect(await inside.locator('img[alt="missing"]').count()).toBe(0);
    expect(await inside.getByText('[image: tracker]').count()).toBe(1);
    expect(await inside.getByRole('link', { name: 'the invoice online' }).getAttribute('rel')).toBe('noopener noreferrer');
    // Left without its href, so no longer a link at all.
    expect(await inside.locator('a', { hasText: 'pay here' }).getAttribute('href')).toBeNull();

    await page.mouse.move(20, 20);
    for (const f of page.frames()) expect(await xssFlag(f), f.url()).toBeUndefined();
    expect(page.frames()).toContain(frame);
    // Framed by the console only; sandboxed without scripts by its own response too.
    expect(frameHeaders[0]).toMatchObject({ 'x-frame-options': 'SAMEORIGIN', 'x-content-type-options': 'nosniff' });
    expect(frameHeaders[0]!['content-security-policy']).toContain("frame-ancestors 'self'");
    expect(frameHeaders[0]!['content-security-policy']).toContain('sandbox allow-popups allow-popups-to-escape-sandbox');
    expect(frameHeaders[0]!['content-security-policy']).not.toMatch(/allow-scripts|allow-same-origin|script-src/);
    expect(remoteHits).toEqual([]);
    expect(requested.filter((url) => url.startsWith(remoteBase()))).toEqual([]);

    await page.getByRole('link', { name: 'Load remote images' }).click();
    // The browser's request event reaches the test after the server has seen the request: wait for both.
    await waitFor(() => remoteHits.includes('/pixel.png') && requested.includes(`${remoteBase()}/pixel.png`), 'the remote image to be asked for');
    // Only the image's own src: no srcset, background, stylesheet, or anything a script would ask.
    expect(remoteHits).toEqual(['/pixel.png']);
    for (const f of page.frames()) expect(await xssFlag(f), f.url()).toBeUndefined();

    // Another origin cannot show it, even to a logged-in agent: 127.0.0.1 on another port is the
    // same site, so the session cookie goes along and only frame-ancestors 'self' stops it.
    await page.goto(`${remoteBase()}/framer.html?src=${encodeURIComponent(frame.url())}`);
    const framedElsewhere = await waitFor(() => page.frames().find((f) => f !== page.mainFrame()), "the other origin's frame");
    expect(await framedElsewhere.content()).not.toContain('here is the invoice');
  });
});
