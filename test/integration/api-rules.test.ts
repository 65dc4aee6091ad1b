import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dryRunBody, rulesBody } from '../../daemon/http/api/schemas.js';
import { runMailroom } from '../helpers/daemon-process.js';
import { queuedId } from '../helpers/smtp-client.js';
import { waitForInbound } from '../helpers/queries.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';

/*
 * The rules over the API: what serves (GET /rules) and the dry run (POST /rules/dry-run), which
 * must answer exactly what `rules test --json` prints for the same message.
 */
const TOKENS = {
  read: 'rules-read-token-abcdefghijklmnopqrstuvwxyz',
  agent: 'rules-agent-token-abcdefghijklmnopqrstuvwxyz',
  admin: 'rules-admin-token-abcdefghijklmnopqrstuvwxyz',
};
const NO_ACCOUNT = rawMessage({ from: 'Ana <ana@client.example>', to: 'desk@example.com', subject: 'My invoice is wrong', body: 'The invoice for March charges twice.' });

let t: TestApp;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mailroom-api-rules-'));
  const tokensFile = path.join(dir, 'tokens.yaml');
  writeFileSync(tokensFile, Object.entries(TOKENS).map(([role, token]) => `- name: ${role}-user\n  role: ${role}\n  token: ${token}\n`).join(''));
  t = await startTestApp({ rules: 'account-number.yaml', env: { MAILROOM_API_TOKENS_FILE: tokensFile } });
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, urlPath: string, token: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`http://127.0.0.1:${t.httpPort}/api/v1${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

describe('the rules API', () => {
  it('gives an admin the decision, the same as rules test --json for the same message', async () => {
    const api = await call('POST', '/rules/dry-run', TOKENS.admin, { message: NO_ACCOUNT });
    expect(api.status, JSON.stringify(api.json)).toBe(200);
    expect(dryRunBody.safeParse(api.json).error).toBeUndefined();
    expect(api.json.missing).toEqual([{ id: 'account', label: 'account number', hint: 'the six digits on your invoice, e.g. "Account 123456"' }]);
    expect(api.json.category).toEqual({ id: 'billing', label: 'Billing' });
    expect(api.json.mails).toHaveLength(1);
    expect(api.json.mails[0]).toMatchObject({ kind: 'acknowledgement_missing_details', to: 'ana@client.example', subject: 'Received: My invoice is wrong [#1000]' });

    const eml = path.join(dir, 'no-account.eml');
    writeFileSync(eml, NO_ACCOUNT);
    // A data folder of its own: the command runs here, not forwarded to the test's daemon.
    const cli = await runMailroom(['rules', 'test', '--config', t.rulesFile, eml, '--json'], { MAILROOM_DATA_DIR: path.join(dir, 'cli-data') });
    expect(cli.code, cli.stderr).toBe(0);
    const { file: _file, rules: _rules, ...report } = JSON.parse(cli.stdout) as Record<string, unknown>;
    expect(api.json).toEqual(report);
  }, 60_000);

  it('tries a stored spool row by its id, and answers 404 for an unknown row or ticket', async () => {
    const sent = await t.send({ from: 'bo@client.example', to: ['desk@example.com'] }, rawMessage({ from: 'bo@client.example', to: 'desk@example.com', subject: 'Hello', body: 'Account 654321, the app crashes.' }));
    const row = await waitForInbound(t, queuedId(sent));
    const api = await call('POST', '/rules/dry-run', TOKENS.admin, { inboundId: row.id });
    expect(api.status, JSON.stringify(api.json)).toBe(200);
    expect(api.json.found).toEqual({ account: { value: '654321' } });
    expect(api.json.missing).toEqual([]);
    expect((await call('POST', '/rules/dry-run', TOKENS.admin, { inboundId: 999_999 })).status).toBe(404);
    expect((await call('POST', '/rules/dry-run', TOKENS.admin, { message: NO_ACCOUNT, ticket: 999_999 })).status).toBe(404);
  });

  it('refuses agent and read tokens with 403, and garbage or a malformed body with 400', async () => {
    for (const token of [TOKENS.agent, TOKENS.read]) expect((await call('POST', '/rules/dry-run', token, { message: NO_ACCOUNT })).status).toBe(403);
    const garbage = await call('POST', '/rules/dry-run', TOKENS.admin, { message: '\u0000\u0001 not a mail at all' });
    expect(garbage.status).toBe(400);
    expect(garbage.json.error).toMatch(/cannot be parsed/);
    expect((await call('POST', '/rules/dry-run', TOKENS.admin, { message: NO_ACCOUNT, inboundId: 1 })).status).toBe(400);
    expect((await call('POST', '/rules/dry-run', TOKENS.admin, {})).status).toBe(400);
  });

  it('shows a read token the rules in force and their mailboxes, and documents both routes', async () => {
    const rules = await call('GET', '/rules', TOKENS.read);
    expect(rules.status).toBe(200);
    expect(rulesBody.safeParse(rules.json).error).toBeUndefined();
    expect(rules.json).toMatchObject({ file: t.rulesFile, lastReload: { ok: true, error: null }, problems: [], mailboxes: [{ address: 'desk@example.com', name: 'Desk', language: 'en' }] });
    const doc = (await (await fetch(`http://127.0.0.1:${t.httpPort}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, any>> };
    expect(doc.paths['/api/v1/rules']!.get['x-mailroom-role']).toBe('read');
    expect(doc.paths['/api/v1/rules/dry-run']!.post['x-mailroom-role']).toBe('admin');
    expect(doc.paths['/api/v1/rules/dry-run']!.post.requestBody.content['application/json'].schema.properties).toHaveProperty('inboundId');
  });
});
