import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectDocumented, type OpenApiDocument } from '../helpers/openapi-check.js';
import { insertBounce, suppressContact, suppressionOf } from '../../db/bounces.js';
import { getInbound, insertInbound, type Envelope } from '../../db/inbound.js';
import { countTickets, waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

/*
 * The operations routes of /api/v1 (spool, bounces, suppressions) against the real daemon, each
 * JSON answer checked against the schema the OpenAPI document gives for it.
 */
const TOKENS = {
  read: 'ops-read-token-abcdefghijklmnopqrstuvwxyz',
  agent: 'ops-agent-token-abcdefghijklmnopqrstuvwxyz',
  admin: 'ops-admin-token-abcdefghijklmnopqrstuvwxyz',
};

let t: TestApp;
let tokensDir: string;
let openapi: OpenApiDocument;
const spoolIds: number[] = [];

interface Answer {
  status: number;
  headers: Headers;
  json: unknown;
  bytes: Buffer;
}

async function call(method: string, urlPath: string, token: string | null = TOKENS.admin): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${t.httpPort}${urlPath}`, { method, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  const bytes = Buffer.from(await res.arrayBuffer());
  const json = res.headers.get('content-type') === 'application/json' ? (JSON.parse(bytes.toString('utf8')) as unknown) : null;
  return { status: res.status, headers: res.headers, json, bytes };
}

/** The answer, after checking its body against the schema the OpenAPI document gives for that route and status. */
async function documented(method: string, template: string, urlPath: string, token: string = TOKENS.admin): Promise<Answer> {
  const answer = await call(method, urlPath, token);
  expectDocumented(openapi, method, template, urlPath, answer);
  return answer;
}

const envelope = (mailFrom: string): Envelope => ({ mailFrom, rcptTo: ['soporte@example.com'], clientAddress: '127.0.0.1', clientHelo: 'x', tls: false, receivedAt: new Date() });
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  tokensDir = mkdtempSync(path.join(os.tmpdir(), 'mailroom-ops-tokens-'));
  const tokensFile = path.join(tokensDir, 'tokens.yaml');
  writeFileSync(tokensFile, Object.entries(TOKENS).map(([role, token]) => `- name: ${role}-bot\n  role: ${role}\n  token: ${token}\n`).join(''));
  t = await startTestApp({ env: { MAILROOM_API_TOKENS_FILE: tokensFile } });
  openapi = (await call('GET', '/api/v1/openapi.json', null)).json as typeof openapi;
  for (const name of ['ana', 'bea', 'cris']) {
    const sent = await t.send({ from: `${name}@cliente.es`, to: ['soporte@example.com'] }, rawMessage({ from: `${name}@cliente.es`, subject: `Pedido de ${name}`, body: 'Hola.' }));
    spoolIds.push((await waitForInbound(t, queuedId(sent))).id);
  }
});
afterAll(async () => {
  await t?.close();
  rmSync(tokensDir, { recursive: true, force: true });
});

describe('roles on the operations routes', () => {
  it('lets read read, agent also lift a suppression, and only admin replay or download the bytes', async () => {
    const id = spoolIds[0]!;
    for (const token of Object.values(TOKENS)) {
      expect((await documented('GET', '/spool', '/api/v1/spool', token)).status).toBe(200);
      expect((await documented('GET', '/spool/{id}', `/api/v1/spool/${id}`, token)).status).toBe(200);
      expect((await documented('GET', '/bounces', '/api/v1/bounces?unmatched=true', token)).status).toBe(200);
      expect((await documented('GET', '/suppressions', '/api/v1/suppressions', token)).status).toBe(200);
    }
    await suppressContact(t.db, 'ana@cliente.es', 'userunknown');
    for (const token of [TOKENS.read, TOKENS.agent]) {
      expect((await call('POST', `/api/v1/spool/${id}/replay`, token)).status).toBe(403);
      expect((await call('GET', `/api/v1/spool/${id}/raw`, token)).status).toBe(403);
    }
    expect((await call('DELETE', '/api/v1/suppressions/ana%40cliente.es', TOKENS.read)).status).toBe(403);
    expect((await suppressionOf(t.db, 'ana@cliente.es')).suppressed).toBe(true);

    const removed = await documented('DELETE', '/suppressions/{address}', '/api/v1/suppressions/Ana%40cliente.es', TOKENS.agent);
    expect(removed).toMatchObject({ status: 200, json: { removed: 'ana@cliente.es' } });
    expect((await suppressionOf(t.db, 'ana@cliente.es')).suppressed).toBe(false);
    expect((await documented('DELETE', '/suppressions/{address}', '/api/v1/suppressions/ana%40cliente.es', TOKENS.agent)).status).toBe(404);
    expect((await call('GET', `/api/v1/spool/${id}/raw`, TOKENS.admin)).status).toBe(200);
    expect((await call('GET', '/api/v1/spool', null)).status).toBe(401);
  });

  it('lists suppressions as suppressions list --json does', async () => {
    await suppressContact(t.db, 'bea@cliente.es', 'mailboxfull');
    const answer = await documented('GET', '/suppressions', '/api/v1/suppressions', TOKENS.read);
    expect((answer.json as { suppressions: unknown[] }).suppressions).toContainEqual({ address: 'bea@cliente.es', suppressedAt: expect.any(String), reason: 'mailboxfull', softBounces: 0 });
  });
});

describe('the spool', () => {
  it('pages newest first without repeating or skipping a row, and filters by state', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const answer = await documented('GET', '/spool', `/api/v1/spool?limit=2${cursor ? `&cursor=${cursor}` : ''}`, TOKENS.read);
      const body = answer.json as { inbound: Array<{ id: number }>; nextCursor: string | null };
      expect(body.inbound.length).toBeLessThanOrEqual(2);
      seen.push(...body.inbound.map((row) => row.id));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of spoolIds) expect(seen).toContain(id);
    const processed = (await documented('GET', '/spool', '/api/v1/spool?state=processed&limit=200', TOKENS.read)).json as { inbound: Array<{ state: string }> };
    expect(processed.inbound.length).toBeGreaterThanOrEqual(3);
    expect(processed.inbound.every((row) => row.state === 'processed')).toBe(true);
    expect((await documented('GET', '/spool', '/api/v1/spool?cursor=nonsense', TOKENS.read)).status).toBe(400);
  });

  it('shows a row as inbound show --json does, and 404 for an unknown one', async () => {
    const answer = await documented('GET', '/spool/{id}', `/api/v1/spool/${spoolIds[1]}`, TOKENS.read);
    expect(answer.json).toMatchObject({ id: spoolIds[1], state: 'processed', from: 'bea@cliente.es', subject: 'Pedido de bea', ticketNumber: expect.any(Number), parseError: null });
    expect((await documented('GET', '/spool/{id}', '/api/v1/spool/999999', TOKENS.read)).status).toBe(404);
  });

  it('serves the stored bytes exactly, as a message/rfc822 download', async () => {
    const raw = Buffer.from(rawMessage({ from: 'dora@cliente.es', subject: 'Bytes exactos ñ', body: 'Línea con acentos\r\n.\r\nfin' }), 'utf8');
    const id = await insertInbound(t.db, envelope('dora@cliente.es'), raw, sha256(raw));
    const answer = await call('GET', `/api/v1/spool/${id}/raw`);
    expect(answer.status).toBe(200);
    expect(sha256(answer.bytes)).toBe(sha256(raw));
    expect(answer.headers.get('content-type')).toBe('message/rfc822');
    expect(answer.headers.get('content-disposition')).toBe(`attachment; filename="spool-${id}.eml"`);
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await documented('GET', '/spool/{id}/raw', '/api/v1/spool/999999/raw')).status).toBe(404);
  });

  it('replays a failed row until it is processed, idempotently, and says 404 for an unknown one', async () => {
    // Past mailparser's header limit: processing fails, and a replay processes it (and fails) again.
    const unreadable = Buffer.from(`From: Raro <raro@cliente.es>\r\nSubject: Factura\r\nX-Huge: ${'a'.repeat(2_000_000)}\r\n\r\nNo puedo pagar.\r\n`);
    const broken = await insertInbound(t.db, envelope('raro@cliente.es'), unreadable, sha256(unreadable));
    await t.app.queue.enqueue(broken);
    const failed = await waitForInbound(t, broken, 30_000);
    expect(failed.state).toBe('failed');
    const again = await documented('POST', '/spool/{id}/replay', `/api/v1/spool/${broken}/replay`);
    expect(again.json).toEqual({ replayed: [broken], queued: true, notReplayed: [] });
    await waitFor(async () => {
      const row = await getInbound(t.db, broken);
      return row?.state === 'failed' && row.updatedAt > failed.updatedAt;
    }, 'the unreadable row processed again', 30_000);

    // A row that failed for a reason since gone (a database outage, say) files its ticket when replayed.
    const raw = Buffer.from(rawMessage({ from: 'eva@cliente.es', subject: 'Reintento', body: 'Hola.' }));
    const id = await insertInbound(t.db, envelope('eva@cliente.es'), raw, sha256(raw));
    await t.db.execute(sql`update inbound_messages set state = 'failed', last_error = 'database went away' where id = ${id}`);
    const ticketsBefore = await countTickets(t);
    expect((await documented('POST', '/spool/{id}/replay', `/api/v1/spool/${id}/replay`)).status).toBe(200);
    await waitFor(async () => (await getInbound(t.db, id))?.state === 'processed', 'the replayed row processed', 30_000);
    expect(await countTickets(t)).toBe(ticketsBefore + 1);
    expect((await documented('POST', '/spool/{id}/replay', `/api/v1/spool/${id}/replay`)).status).toBe(200);
    await waitFor(async () => ['processed', 'ignored'].includes((await getInbound(t.db, id))?.state ?? ''), 'the row replayed once more', 30_000);
    expect(await countTickets(t)).toBe(ticketsBefore + 1);
    expect((await documented('POST', '/spool/{id}/replay', '/api/v1/spool/999999/replay')).status).toBe(404);
  });
});

describe('bounces', () => {
  it('lists unmatched bounces newest first, a page at a time, as bounces --json does', async () => {
    const made: number[] = [];
    for (const kind of ['bounce', 'delay', 'complaint'] as const) {
      const raw = Buffer.from(rawMessage({ from: 'mailer-daemon@remote.example', subject: `Report ${kind}` }));
      const inboundId = await insertInbound(t.db, envelope(''), raw, sha256(raw));
      made.push(await insertBounce(t.db, { inboundId, kind, unmatchedReason: 'no_reference', recipients: [{ recipient: 'x@remote.example', status: '5.1.1' }] }));
    }
    const first = (await documented('GET', '/bounces', '/api/v1/bounces?unmatched=true&limit=2', TOKENS.read)).json as { bounces: Array<{ id: number; kind: string }>; nextCursor: string };
    expect(first.bounces.map((b) => b.id)).toEqual([made[2], made[1]]);
    expect(first.bounces[0]).toMatchObject({ kind: 'complaint', matchedBy: null, unmatchedReason: 'no_reference', recipients: [{ recipient: 'x@remote.example', status: '5.1.1' }] });
    const second = (await documented('GET', '/bounces', `/api/v1/bounces?unmatched=true&limit=2&cursor=${first.nextCursor}`, TOKENS.read)).json as { bounces: Array<{ id: number }>; nextCursor: string | null };
    expect(second.bounces.map((b) => b.id)).toEqual([made[0]]);
    expect(second.nextCursor).toBeNull();
  });
});
