import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { htmlMailWithInlineImage } from '../helpers/html-mail.js';
import { expectDocumented, type OpenApiDocument } from '../helpers/openapi-check.js';
import { ticketOfInbound, waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';

/*
 * The HTML part of a customer's mail through the API: in by real SMTP as a multipart/related mail
 * with an inline image and hostile markup, out sanitized in the ticket's `html` and as a page of
 * its own with the headers that keep it inert.
 */
const READ_TOKEN = 'html-read-token-abcdefghijklmnopqrstuvwxyz';
const TRACKER = 'https://tracker.example/open.png?u=ana';
let t: TestApp;
let tokensDir: string;
let openapi: OpenApiDocument;
let htmlTicket: { number: number; articleId: number; logoId: string };
let plainTicket: { number: number; articleId: number };

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

async function call(urlPath: string, token: string | null = READ_TOKEN): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${t.httpPort}${urlPath}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: res.headers.get('content-type') === 'application/json' ? (JSON.parse(text) as unknown) : null };
}

async function documented(template: string, urlPath: string): Promise<Answer> {
  const answer = await call(urlPath);
  expectDocumented(openapi, 'GET', template, urlPath, answer);
  return answer;
}

type Detail = { articles: Array<{ id: number; html: string | null; attachments: Array<{ id: string; contentId: string | null; url: string }> }> };

const HOSTILE = `<html><head><title>Invoice</title><meta http-equiv="refresh" content="0;url=https://evil.example/">
<base href="https://evil.example/"><style>@import url(https://evil.example/x.css);</style><script>alert(1)</script></head>
<body onload="alert(2)"><p>Hello, here is <b>the invoice</b>.</p>
<img src="cid:logo.42@client.example" alt="Logo" onerror="alert(3)">
<img src="cid:not-attached@client.example" alt="missing">
<img src="${TRACKER}" srcset="https://evil.example/2x.png 2x" alt="tracker">
<table background="https://evil.example/bg.png"><tr><td>cell</td></tr></table>
<svg onload="alert(4)"></svg><iframe src="https://evil.example/"></iframe>
<form action="https://evil.example/"><input name="card"></form>
<a href="jav&#x61;script:alert(5)">pay</a> <a href="https://example.com/invoice">online</a>
</body></html>`;

beforeAll(async () => {
  tokensDir = mkdtempSync(path.join(os.tmpdir(), 'mailroom-html-tokens-'));
  const tokensFile = path.join(tokensDir, 'tokens.yaml');
  writeFileSync(tokensFile, `- name: reader\n  role: read\n  token: ${READ_TOKEN}\n`);
  t = await startTestApp({ env: { MAILROOM_API_TOKENS_FILE: tokensFile } });
  openapi = (await call('/api/v1/openapi.json', null)).json as OpenApiDocument;

  const sent = await t.send(
    { from: 'ana@cliente.es', to: ['soporte@example.com'] },
    htmlMailWithInlineImage({ from: 'ana@cliente.es', to: 'soporte@example.com', subject: 'Factura', text: 'Hello, here is the invoice.', html: HOSTILE, contentId: 'logo.42@client.example' }),
  );
  const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(sent)));
  const detail = (await call(`/api/v1/tickets/${ticket.number}`)).json as Detail;
  const article = detail.articles[0]!;
  htmlTicket = { number: ticket.number, articleId: article.id, logoId: article.attachments.find((x) => x.contentId === 'logo.42@client.example')!.id };

  const plain = await t.send({ from: 'rosa@cliente.es', to: ['soporte@example.com'] }, rawMessage({ from: 'rosa@cliente.es', subject: 'Solo texto', body: 'Sin HTML.' }));
  const plainRow = await ticketOfInbound(t, await waitForInbound(t, queuedId(plain)));
  plainTicket = { number: plainRow.number, articleId: ((await call(`/api/v1/tickets/${plainRow.number}`)).json as Detail).articles[0]!.id };
});
afterAll(async () => {
  await t?.close();
  rmSync(tokensDir, { recursive: true, force: true });
});

/** What the sanitized HTML may never hold, however the mail was written. */
function expectInert(html: string): void {
  for (const pattern of [/<script/i, /<style/i, /<meta/i, /<base/i, /<svg/i, /<iframe/i, /<form/i, /<input/i, /\son\w+=/i, /javascript:/i, /srcset/i, /background=/i, /evil\.example/, /cid:/i]) {
    expect(html).not.toMatch(pattern);
  }
}

/** The page's body: the sanitized part, without the page's own head. */
const bodyOf = (page: string) => page.slice(page.indexOf('<body>') + '<body>'.length, page.lastIndexOf('</body>'));

describe('HTML parts over the API', () => {
  it("gives each article its sanitized HTML: the inline image at its attachment URL, remote images left out; null for a mail without HTML", async () => {
    const answer = await documented('/tickets/{number}', `/api/v1/tickets/${htmlTicket.number}`);
    expect(answer.status).toBe(200);
    const html = (answer.json as Detail).articles[0]!.html!;
    expect(html).toContain('<p>Hello, here is <b>the invoice</b>.</p>');
    expect(html).toContain(`<img src="/api/v1/attachments/${htmlTicket.logoId}" alt="Logo" />`);
    expect(html).toContain('[image: tracker]');
    expect(html).not.toContain('tracker.example');
    expect(html).not.toContain('missing');
    expect(html).toContain('<a href="https://example.com/invoice" rel="noopener noreferrer" target="_blank">online</a>');
    expectInert(html);

    const plain = await documented('/tickets/{number}', `/api/v1/tickets/${plainTicket.number}`);
    expect((plain.json as Detail).articles[0]!.html).toBeNull();
  });

  it('gives tickets show --json the same sanitized html as the API', async () => {
    const io = { text: '', out: (s: string) => void (io.text += s), err: () => {}, isTTY: false };
    expect(await t.app.runCommand(['tickets', 'show', String(htmlTicket.number), '--json'], io)).toBe(0);
    const shown = JSON.parse(io.text) as Detail;
    const api = (await call(`/api/v1/tickets/${htmlTicket.number}`)).json as Detail;
    expect(shown.articles[0]!.html).toBe(api.articles[0]!.html);
    expect(shown.articles[0]).not.toHaveProperty('htmlBody');
  });

  it('serves the HTML part as a sandboxed page that loads nothing remote, unless remote=1 asks for images', async () => {
    const url = `/api/v1/tickets/${htmlTicket.number}/articles/${htmlTicket.articleId}/html`;
    const page = await call(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const policy = page.headers.get('content-security-policy')!;
    expect(policy.split('; ')).toEqual(
      expect.arrayContaining(["default-src 'none'", "img-src 'self' data:", 'sandbox allow-popups allow-popups-to-escape-sandbox', "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"]),
    );
    expect(policy).not.toMatch(/script-src|allow-scripts|allow-same-origin/);
    expect(page.text).toContain(`<img src="/api/v1/attachments/${htmlTicket.logoId}" alt="Logo" />`);
    expect(page.text).toContain('[image: tracker]');
    expect(page.text).toMatch(/^<!doctype html>\n<html><head><meta charset="utf-8"><title>HTML part<\/title><\/head><body>\n/);
    expectInert(bodyOf(page.text));

    const remote = await call(`${url}?remote=1`);
    expect(remote.status).toBe(200);
    expect(remote.headers.get('content-security-policy')).toContain("img-src 'self' data: https: http:");
    expect(remote.text).toContain(`<img src="${TRACKER}" alt="tracker" />`);
    expect(remote.text).not.toContain('[image: tracker]');
    expectInert(bodyOf(remote.text).replace(TRACKER, ''));
    expect((await call(`${url}?remote=true`)).text).toContain(TRACKER);
    expect((await call(`${url}?remote=0`)).text).not.toContain(TRACKER);

    expect((await documented('/tickets/{number}/articles/{articleId}/html', `${url}?remote=yes-please`)).status).toBe(400);
  });

  it('documents the route: role read, the remote query, an HTML answer', () => {
    const operation = openapi.paths['/api/v1/tickets/{number}/articles/{articleId}/html']!.get as unknown as {
      'x-mailroom-role': string;
      parameters: Array<{ name: string; in: string }>;
      responses: Record<string, { content: Record<string, unknown> }>;
    };
    expect(operation['x-mailroom-role']).toBe('read');
    expect(operation.parameters.map((p) => `${p.in}:${p.name}`)).toEqual(['path:number', 'path:articleId', 'query:remote']);
    expect(Object.keys(operation.responses['200']!.content)).toEqual(['text/html']);
  });

  it('answers 404 for an article of another ticket, one without HTML and an unknown ticket; 401 without a token', async () => {
    const template = '/tickets/{number}/articles/{articleId}/html';
    for (const urlPath of [
      `/api/v1/tickets/${plainTicket.number}/articles/${htmlTicket.articleId}/html`,
      `/api/v1/tickets/${plainTicket.number}/articles/${plainTicket.articleId}/html`,
      `/api/v1/tickets/999999/articles/${htmlTicket.articleId}/html`,
      `/api/v1/tickets/${htmlTicket.number}/articles/999999/html`,
    ]) {
      const answer = await documented(template, urlPath);
      expect(answer.status, urlPath).toBe(404);
    }
    const anonymous = await call(`/api/v1/tickets/${htmlTicket.number}/articles/${htmlTicket.articleId}/html`, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.text).not.toContain('invoice');
  });
});
