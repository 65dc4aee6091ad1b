import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../helpers/api-client.js';
import type { OpenApiDocument } from '../helpers/openapi-check.js';
import { z } from 'zod';
import { createApp } from '../../daemon/app.js';
import { parseConfig } from '../../daemon/config.js';
import { listTicketDeliveries } from '../../db/deliveries.js';
import { findTicketByNumber, listTicketEvents } from '../../db/tickets.js';
import { captureLogs } from '../helpers/log-capture.js';
import { ticketOfInbound, waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

/*
 * The versioned API as another system sees it: real HTTP to the real daemon, tokens with roles
 * from a tokens file, mail in by SMTP and out to a sink. Every JSON answer is also checked
 * against the schema the OpenAPI document gives for it.
 */
const SINGLE_TOKEN = 'single-admin-token-0123456789';
const TOKENS = {
  read: 'read-token-abcdefghijklmnopqrstuvwxyz',
  agent: 'agent-token-abcdefghijklmnopqrstuvwxyz',
  admin: 'admin-token-abcdefghijklmnopqrstuvwxyz',
};
const RULES = `mailboxes:
  - address: desk@example.com
    name: Desk
    language: en
  - address: sales@example.com
    name: Sales
    language: en
categories:
  - id: design
    label: { en: Design }
    match: { keywords: [template] }
  - id: general
    label: { en: General }
    default: true
status:
  on_enter:
    solved:
      - notify: requester
        template: solved
      - add_tag: resolved
templates:
  en:
    acknowledgement: { subject: "Received: {{subject}}", body: "Ticket {{ticket_number}}." }
    missing_details: { subject: "Details: {{subject}}", body: "x" }
    acknowledgement_missing_details: { subject: "Received: {{subject}}", body: "x" }
    sensitive_warning: { subject: "Careful", body: "x" }
    notifications:
      solved: { subject: "Solved: {{subject}}", body: "Ticket {{ticket_number}} is solved." }
`;

let sink: SmtpSink;
let t: TestApp;
let tokensDir: string;
const numbers = { printer: 0, template: 0, zanzibar: 0, files: 0, gone: 0, lost: 0 };
let openapi: OpenApiDocument;

const { call, documented } = apiClient(() => t.httpPort, TOKENS.admin, () => openapi);

async function fileTicket(from: string, to: string, raw: string): Promise<number> {
  const sent = await t.send({ from, to: [to] }, raw);
  return (await ticketOfInbound(t, await waitForInbound(t, queuedId(sent)))).number;
}

/** A mail with three attachments: a hostile name, a PNG, and HTML. */
function mailWithAttachments(from: string): string {
  const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
  return [
    `From: ${from}`,
    'To: desk@example.com',
    'Subject: Files attached',
    'Message-ID: <attachments.1@client.test>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Here are the files.',
    '--b1',
    'Content-Type: text/plain',
    `Content-Disposition: attachment; filename*=UTF-8''%22evil%0D%0AX%3A%20y.html`,
    '',
    'not really html',
    '--b1',
    'Content-Type: image/png; name="pixel.png"',
    'Content-Disposition: attachment; filename="pixel.png"',
    'Content-Transfer-Encoding: base64',
    '',
    png.toString('base64'),
    '--b1',
    'Content-Type: text/html; charset=utf-8',
    'Content-Disposition: attachment; filename="page.html"',
    '',
    '<script>alert(1)</script>',
    '--b1--',
    '',
  ].join('\r\n');
}

beforeAll(async () => {
  sink = await startSmtpSink();
  sink.rcptReplies.set('gone@nowhere.example', [550, '5.1.1 <gone@nowhere.example>: Recipient address rejected: User unknown']);
  sink.rcptReplies.set('lost@nowhere.example', [550, '5.1.1 <lost@nowhere.example>: Recipient address rejected: User unknown']);
  tokensDir = mkdtempSync(path.join(os.tmpdir(), 'mailroom-tokens-'));
  const tokensFile = path.join(tokensDir, 'tokens.yaml');
  writeFileSync(
    tokensFile,
    Object.entries(TOKENS)
      .map(([role, token]) => `- name: ${role}-bot\n  role: ${role}\n  token: ${token}\n`)
      .join(''),
  );
  t = await startTestApp({ rules: RULES, env: { MAILROOM_SMTP_RELAY: sink.url, MAILROOM_API_TOKEN: SINGLE_TOKEN, MAILROOM_API_TOKENS_FILE: tokensFile } });
  openapi = (await call('GET', '/api/v1/openapi.json', { token: null })).json as typeof openapi;

  numbers.printer = await fileTicket('ana@client.example', 'desk@example.com', rawMessage({ from: 'ana@client.example', to: 'desk@example.com', subject: 'Printer broken', body: 'The printer is jammed.' }));
  numbers.template = await fileTicket('bob@client.example', 'sales@example.com', rawMessage({ from: 'bob@client.example', to: 'sales@example.com', subject: 'Question about a template', body: 'Which template fits?' }));
  numbers.zanzibar = await fileTicket('Ana+shop@Client.example', 'desk@example.com', rawMessage({ from: 'Ana+shop@Client.example', to: 'desk@example.com', subject: 'Another one', body: 'My parcel went to zanzibar instead.' }));
  numbers.files = await fileTicket('carl@client.example', 'desk@example.com', mailWithAttachments('carl@client.example'));
  numbers.gone = await fileTicket('gone@nowhere.example', 'desk@example.com', rawMessage({ from: 'gone@nowhere.example', to: 'desk@example.com', subject: 'Bounce me' }));
  numbers.lost = await fileTicket('lost@nowhere.example', 'desk@example.com', rawMessage({ from: 'lost@nowhere.example', to: 'desk@example.com', subject: 'Bounce me too' }));
});
afterAll(async () => {
  await t?.close();
  await sink?.close();
  rmSync(tokensDir, { recursive: true, force: true });
});

describe('tokens and roles', () => {
  it('answers 401 on every route without a token or with an unknown one, and serves the OpenAPI document to anyone', async () => {
    const routes: Array<[string, string]> = [
      ['GET', '/api/v1/tickets'],
      ['GET', `/api/v1/tickets/${numbers.printer}`],
      ['GET', '/api/v1/attachments/1-0'],
      ['GET', `/api/v1/tickets/${numbers.printer}/articles/1/html`],
      ['POST', `/api/v1/tickets/${numbers.printer}/status`],
      ['POST', `/api/v1/tickets/${numbers.printer}/tags`],
      ['POST', `/api/v1/tickets/${numbers.printer}/replies`],
      ['POST', `/api/v1/tickets/${numbers.printer}/notes`],
      ['GET', '/api/v1/webhooks'],
      ['GET', '/api/v1/webhooks/crm/deliveries'],
      ['POST', '/api/v1/webhooks/deliveries/1/retry'],
      ['POST', '/api/v1/deliveries/1/resend'],
      ['GET', '/api/v1/failures'],
      ['GET', '/api/v1/nothing-here'],
      ['GET', '/api/failures'],
    ];
    for (const [method, url] of routes) {
      expect((await call(method, url, { token: null, body: method === 'POST' ? {} : undefined })).status, `${method} ${url}`).toBe(401);
      expect((await call(method, url, { token: 'unknown-token-abcdefghijklmnopqrstuvwxyz', body: method === 'POST' ? {} : undefined })).status, `${method} ${url}`).toBe(401);
    }
    const doc = await call('GET', '/api/v1/openapi.json', { token: null });
    expect(doc.status).toBe(200);
    expect(doc.json).toMatchObject({ openapi: '3.1.0' });
    expect(Object.keys(openapi.paths).sort()).toEqual([
      '/api/v1/attachments/{id}',
      '/api/v1/bounces',
      '/api/v1/deliveries/{id}/resend',
      '/api/v1/failures',
      '/api/v1/openapi.json',
      '/api/v1/rules',
      '/api/v1/rules/dry-run',
      '/api/v1/spool',
      '/api/v1/spool/{id}',
      '/api/v1/spool/{id}/raw',
      '/api/v1/spool/{id}/replay',
      '/api/v1/suppressions',
      '/api/v1/suppressions/{address}',
      '/api/v1/tickets',
      '/api/v1/tickets/{number}',
      '/api/v1/tickets/{number}/articles/{articleId}/html',
      '/api/v1/tickets/{number}/notes',
      '/api/v1/tickets/{number}/replies',
      '/api/v1/tickets/{number}/status',
      '/api/v1/tickets/{number}/tags',
      '/api/v1/webhooks',
      '/api/v1/webhooks/deliveries/{id}/retry',
      '/api/v1/webhooks/{name}/deliveries',
    ]);
  });

  it('lets a read token read but not reply or change the status (403), and an agent do both, recorded under its name', async () => {
    expect((await documented('GET', '/tickets', '/api/v1/tickets', { token: TOKENS.read })).status).toBe(200);
    const refusedStatus = await documented('POST', '/tickets/{number}/status', `/api/v1/tickets/${numbers.printer}/status`, { token: TOKENS.read, body: { status: 'solved' } });
    expect(refusedStatus.status).toBe(403);
    expect(refusedStatus.json).toEqual({ error: 'forbidden: this needs the agent role; the token read-bot has read' });
    expect((await documented('POST', '/tickets/{number}/replies', `/api/v1/tickets/${numbers.printer}/replies`, { token: TOKENS.read, body: { body: 'hi' } })).status).toBe(403);

    const solved = await documented('POST', '/tickets/{number}/status', `/api/v1/tickets/${numbers.printer}/status`, { token: TOKENS.agent, body: { status: 'solved' } });
    expect(solved.status).toBe(200);
    expect(solved.json).toMatchObject({ ticket: numbers.printer, from: 'new', status: 'solved', changed: true, tags: ['resolved'] });
    // The solved notification the status sends is queued and reaches the customer.
    await waitFor(() => sink.mails.some((m) => m.rcptTo.includes('ana@client.example') && m.message.subject?.includes('Solved: Printer broken')), 'the solved notification');

    const reply = await documented('POST', '/tickets/{number}/replies', `/api/v1/tickets/${numbers.template}/replies`, { token: TOKENS.agent, body: { body: 'Use the blue one.', status: 'pending' } });
    expect(reply.status).toBe(201);
    expect(reply.json).toMatchObject({ ticket: numbers.template, status: 'pending' });
    await waitFor(() => sink.mails.some((m) => m.rcptTo.includes('bob@client.example') && m.message.text?.includes('Use the blue one.')), 'the reply');

    const detail = await documented('GET', '/tickets/{number}', `/api/v1/tickets/${numbers.printer}`, { token: TOKENS.read });
    const events = (detail.json as { events: Array<{ type: string; data: Record<string, unknown> }> }).events;
    expect(events.find((e) => e.type === 'status.changed')?.data).toEqual({ from: 'new', to: 'solved', reason: 'manual', by: 'agent-bot' });
    const replyEvents = (await listTicketEvents(t.db, await ticketId(numbers.template))).filter((e) => e.type === 'agent.replied');
    expect(replyEvents.map((e) => e.data)).toEqual([expect.objectContaining({ by: 'agent-bot', via: 'api' })]);
  });

  it('keeps the unversioned routes for admin tokens only', async () => {
    expect((await call('GET', '/api/failures', { token: TOKENS.agent })).status).toBe(403);
    expect((await call('GET', '/api/failures', { token: SINGLE_TOKEN })).status).toBe(200);
    const reply = await call('POST', `/api/tickets/${numbers.zanzibar}/replies`, { token: TOKENS.admin, body: { body: 'On its way back.', status: 'open' } });
    expect(reply.status).toBe(201);
    expect(reply.json).toMatchObject({ ticket: numbers.zanzibar, status: 'open' });
  });
});

async function ticketId(number: number): Promise<number> {
  return (await findTicketByNumber(t.db, number))!.id;
}

describe('listing tickets', () => {
  it('pages through every ticket in a stable order, each page after the last', async () => {
    for (const [sort, order] of [
      ['updated', 'desc'],
      ['created', 'asc'],
      ['number', 'desc'],
    ] as const) {
      const all = (await documented('GET', '/tickets', `/api/v1/tickets?sort=${sort}&order=${order}&limit=200`)).json as { tickets: Array<{ number: number }>; nextCursor: string | null };
      expect(all.nextCursor).toBeNull();
      expect(all.tickets.length).toBe(6);
      const seen: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = (await documented('GET', '/tickets', `/api/v1/tickets?sort=${sort}&order=${order}&limit=2${cursor ? `&cursor=${cursor}` : ''}`)).json as typeof all;
        seen.push(...page.tickets.map((x) => x.number));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor !== null);
      expect(pages).toBe(3);
      expect(seen).toEqual(all.tickets.map((x) => x.number));
    }
    const byNumber = (await call('GET', '/api/v1/tickets?sort=number&order=asc&limit=200')).json as { tickets: Array<{ number: number }> };
    const sorted = byNumber.tickets.map((x) => x.number);
    expect(sorted).toEqual([...sorted].sort((a, b) => a - b));

    const first = (await call('GET', '/api/v1/tickets?sort=number&limit=2')).json as { nextCursor: string };
    const mixed = await documented('GET', '/tickets', `/api/v1/tickets?sort=created&cursor=${first.nextCursor}`);
    expect(mixed.status).toBe(400);
    expect((await documented('GET', '/tickets', '/api/v1/tickets?cursor=not-a-cursor')).status).toBe(400);
    expect((await documented('GET', '/tickets', '/api/v1/tickets?limit=201')).status).toBe(400);
    expect((await documented('GET', '/tickets', '/api/v1/tickets?colour=red')).status).toBe(400);
  });

  it('filters by status, tag, mailbox, requester (canonically), category and words in the text', async () => {
    const numbersOf = async (query: string) => ((await documented('GET', '/tickets', `/api/v1/tickets?${query}`, { token: TOKENS.read })).json as { tickets: Array<{ number: number }> }).tickets.map((x) => x.number).sort();

    const tagged = await documented('POST', '/tickets/{number}/tags', `/api/v1/tickets/${numbers.files}/tags`, { token: TOKENS.agent, body: { add: ['vip', 'files'], remove: ['none-such'] } });
    expect(tagged.json).toEqual({ ticket: numbers.files, tags: ['vip', 'files'] });
    const untagged = await documented('POST', '/tickets/{number}/tags', `/api/v1/tickets/${numbers.files}/tags`, { token: TOKENS.agent, body: { remove: ['files'] } });
    expect(untagged.json).toEqual({ ticket: numbers.files, tags: ['vip'] });
    expect((await documented('POST', '/tickets/{number}/tags', `/api/v1/tickets/${numbers.files}/tags`, { token: TOKENS.agent, body: {} })).status).toBe(400);
    const tagEvents = (await listTicketEvents(t.db, await ticketId(numbers.files))).filter((e) => e.type.startsWith('tag.'));
    expect(tagEvents.map((e) => [e.type, e.data])).toEqual([
      ['tag.added', { tag: 'vip', by: 'agent-bot' }],
      ['tag.added', { tag: 'files', by: 'agent-bot' }],
      ['tag.removed', { tag: 'files', by: 'agent-bot' }],
    ]);

    expect(await numbersOf('tag=vip')).toEqual([numbers.files]);
    expect(await numbersOf('status=solved')).toEqual([numbers.printer]);
    expect(await numbersOf('mailbox=Sales@Example.com')).toEqual([numbers.template]);
    expect(await numbersOf(`requester=${encodeURIComponent('ANA+other@client.example')}`)).toEqual([numbers.printer, numbers.zanzibar].sort());
    expect(await numbersOf('category=design')).toEqual([numbers.template]);
    // The word is only in the article's text, not in any subject.
    expect(await numbersOf('q=zanzibar')).toEqual([numbers.zanzibar]);
    expect(await numbersOf('q=printer')).toEqual([numbers.printer]);
    expect(await numbersOf(`q=${encodeURIComponent('"went to zanzibar"')}&requester=ana@client.example&status=open`)).toEqual([numbers.zanzibar]);
    expect(await numbersOf('q=nowhere-to-be-found')).toEqual([]);
    expect((await documented('GET', '/tickets', '/api/v1/tickets?status=lost')).status).toBe(400);
  });
});

describe('one ticket and its attachments', () => {
  it('shows participants, articles with visible and full text, attachments with their download URLs, deliveries per recipient and events', async () => {
    const answer = await documented('GET', '/tickets/{number}', `/api/v1/tickets/${numbers.files}`, { token: TOKENS.read });
    expect(answer.status).toBe(200);
    const detail = answer.json as z.infer<typeof detailShape>;
    expect(detail.ticket).toMatchObject({ number: numbers.files, subject: 'Files attached', requester: 'carl@client.example', mailbox: 'desk@example.com' });
    expect(detail.participants).toEqual([expect.objectContaining({ address: 'carl@client.example', role: 'requester' })]);
    const [article] = detail.articles;
    expect(article!.visibleText).toContain('Here are the files.');
    expect(article!.text).toContain('Here are the files.');
    expect(article!.attachments.map((x) => x.contentType)).toEqual(['text/plain', 'image/png', 'text/html']);
    for (const attachment of article!.attachments) expect(attachment.url).toBe(`/api/v1/attachments/${attachment.id}`);
    await waitFor(async () => (await listTicketDeliveries(t.db, await ticketId(numbers.files)))[0]?.state === 'sent', 'the acknowledgement to be sent');
    const fresh = (await call('GET', `/api/v1/tickets/${numbers.files}`)).json as typeof detail;
    expect(fresh.deliveries).toEqual([expect.objectContaining({ kind: 'acknowledgement', state: 'sent', recipients: [expect.objectContaining({ address: 'carl@client.example', state: 'sent' })] })]);
    expect(fresh.events.map((e) => e.type)).toContain('ticket.created');

    expect((await documented('GET', '/tickets/{number}', '/api/v1/tickets/999999')).status).toBe(404);
  });

  it('downloads attachments as attachments: a hostile name cannot end the header, active types come as bytes', async () => {
    const detail = (await call('GET', `/api/v1/tickets/${numbers.files}`)).json as z.infer<typeof detailShape>;
    const [hostile, image, html] = detail.articles[0]!.attachments;

    const evil = await call('GET', hostile!.url, { token: TOKENS.read });
    expect(evil.status).toBe(200);
    expect(evil.headers.get('x')).toBeNull();
    // The parser already turned the line break into _ when it stored the name; the quote goes here.
    expect(evil.headers.get('content-disposition')).toBe(`attachment; filename="evil__X: y.html"; filename*=UTF-8''evil__X%3A%20y.html`);
    expect(evil.headers.get('x-content-type-options')).toBe('nosniff');
    expect(evil.headers.get('content-security-policy')).toBe('sandbox');
    expect(evil.bytes.toString('utf8')).toBe('not really html');

    const png = await call('GET', image!.url, { token: TOKENS.read });
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(png.headers.get('content-disposition')).toBe(`attachment; filename="pixel.png"; filename*=UTF-8''pixel.png`);
    expect(png.bytes.toString('hex')).toBe('89504e470d0a1a0a0000000d4948445200000001000000010806000000');
    expect(Number(png.headers.get('content-length'))).toBe(image!.size);

    const page = await call('GET', html!.url, { token: TOKENS.read });
    expect(page.headers.get('content-type')).toBe('application/octet-stream');
    expect(page.headers.get('content-security-policy')).toBe('sandbox');
    expect(page.bytes.toString('utf8')).toContain('<script>');

    expect((await documented('GET', '/attachments/{id}', `/api/v1/attachments/${detail.articles[0]!.id}-99`)).status).toBe(404);
  });
});

describe('failures and resending', () => {
  it('pages the failures report and resends a failed mail to a corrected address, recorded under the token name', async () => {
    await waitFor(async () => {
      const page = (await call('GET', '/api/v1/failures?limit=200')).json as { failures: unknown[] };
      return page.failures.length >= 2;
    }, 'both acknowledgements to fail');
    const all = (await documented('GET', '/failures', '/api/v1/failures?limit=200', { token: TOKENS.read })).json as { failures: Array<{ recipient: string; deliveryId: number }>; nextCursor: null };
    expect(all.failures.map((f) => f.recipient).sort()).toEqual(['gone@nowhere.example', 'lost@nowhere.example']);
    const first = (await documented('GET', '/failures', '/api/v1/failures?limit=1', { token: TOKENS.read })).json as { failures: Array<{ recipient: string }>; nextCursor: string };
    expect(first.nextCursor).not.toBeNull();
    const second = (await documented('GET', '/failures', `/api/v1/failures?limit=1&cursor=${first.nextCursor}`, { token: TOKENS.read })).json as typeof first;
    expect([...first.failures, ...second.failures].map((f) => f.recipient)).toEqual(all.failures.map((f) => f.recipient));
    expect(second.nextCursor).toBeNull();
    expect((await documented('GET', '/failures', `/api/v1/failures?ticket=${numbers.gone}`)).json).toMatchObject({ failures: [{ recipient: 'gone@nowhere.example' }] });

    const failed = all.failures.find((f) => f.recipient === 'gone@nowhere.example')!;
    expect((await documented('POST', '/deliveries/{id}/resend', `/api/v1/deliveries/${failed.deliveryId}/resend`, { token: TOKENS.read, body: {} })).status).toBe(403);
    const refused = await documented('POST', '/deliveries/{id}/resend', `/api/v1/deliveries/${failed.deliveryId}/resend`, { token: TOKENS.agent, body: {} });
    expect(refused.status).toBe(422);
    const resent = await documented('POST', '/deliveries/{id}/resend', `/api/v1/deliveries/${failed.deliveryId}/resend`, { token: TOKENS.agent, body: { to: 'found@client.example', reason: 'typo' } });
    expect(resent.status).toBe(201);
    expect(resent.json).toMatchObject({ ticket: numbers.gone, to: ['found@client.example'] });
    await waitFor(() => sink.mails.some((m) => m.rcptTo.includes('found@client.example')), 'the resent mail');
    const events = await listTicketEvents(t.db, await ticketId(numbers.gone));
    expect(events.find((e) => e.type === 'delivery.resent')?.data).toMatchObject({ by: 'agent-bot', reason: 'typo' });
    expect((await documented('POST', '/deliveries/{id}/resend', '/api/v1/deliveries/999999/resend', { token: TOKENS.agent, body: {} })).status).toBe(404);
  });
});

describe('the tokens file', () => {
  it('stops the start with CONFIG_INVALID naming each problem by line', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mailroom-badtokens-'));
    try {
      const file = path.join(dir, 'tokens.yaml');
      writeFileSync(file, `- name: ci\n  role: read\n  token: ${TOKENS.read}\n- name: ci\n  role: boss\n  token: short\n`);
      const parsed = parseConfig({ MAILROOM_DATA_DIR: dir, MAILROOM_API_TOKENS_FILE: file });
      if (!parsed.ok) throw new Error(parsed.problems.join('; '));
      const app = createApp(parsed.config, { logger: captureLogs().logger });
      const failure = await app.start().then(
        () => null,
        (err: unknown) => err as { code?: string; message: string },
      );
      await app.stop();
      expect(failure?.code).toBe('CONFIG_INVALID');
      expect(failure?.message).toContain(`${file}:5:9: [1].role:`);
      expect(failure?.message).toContain(`${file}:6:10: [1].token: at least 24 characters`);
      expect(failure?.message).toContain(`${file}:4:9: [1].name: the name ci is used twice`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The shape of a ticket as the tests read it (the OpenAPI check above validates the whole). */
const detailShape = z.object({
  ticket: z.record(z.string(), z.unknown()),
  participants: z.array(z.object({ address: z.string(), role: z.string() })),
  articles: z.array(
    z.object({
      id: z.number(),
      visibleText: z.string(),
      text: z.string(),
      attachments: z.array(z.object({ id: z.string(), url: z.string(), contentType: z.string(), size: z.number() })),
    }),
  ),
  deliveries: z.array(z.unknown()),
  events: z.array(z.object({ type: z.string() })),
});
