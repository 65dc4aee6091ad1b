import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runMailroom } from '../helpers/daemon-process.js';

// Embedded mode in both suites: what is tested is what start and `config check` say, not storage.
let dir: string;
let env: Record<string, string>;
let held: net.Server | null = null;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mailroom-startup-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await new Promise((resolve) => (held ? held.close(resolve) : resolve(undefined)));
  held = null;
});

/** A port on 127.0.0.1 (any free one by default) that the test holds, as another program would. */
async function holdPort(port = 0): Promise<number> {
  held = net.createServer();
  await new Promise<void>((resolve, reject) => {
    held!.once('error', reject);
    held!.listen(port, '127.0.0.1', resolve);
  });
  return (held.address() as net.AddressInfo).port;
}

const STACK_LINE = /^\s+at /m;

describe('config check tries what start would hit', () => {
  beforeAll(() => {
    env = { MAILROOM_DATA_DIR: path.join(dir, 'check'), MAILROOM_SMTP_PORT: '0', MAILROOM_HTTP_PORT: '0', MAILROOM_LOG_LEVEL: 'info' };
  });

  it('names a port in use and exits 1', async () => {
    const port = await holdPort();
    const run = await runMailroom(['config', 'check'], { ...env, MAILROOM_SMTP_PORT: String(port) });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`ports: MAILROOM_SMTP_PORT: port ${port} on 127.0.0.1 is in use\n`);

    const json = await runMailroom(['config', 'check', '--json'], { ...env, MAILROOM_HTTP_PORT: String(port) });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      environment: [],
      rules: [],
      mailboxes: ['soporte@example.com'],
      tls: [],
      ports: [`MAILROOM_HTTP_PORT: port ${port} on 127.0.0.1 is in use`],
    });
  });

  it('says ok with the same fields when the ports are free, and leaves them free', async () => {
    const port = await holdPort();
    await new Promise((resolve) => held!.close(resolve));
    held = null;
    const run = await runMailroom(['config', 'check', '--json'], { ...env, MAILROOM_SMTP_PORT: String(port) });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, environment: [], rules: [], tls: [], ports: [], config: { smtp: { port } } });
    // bound and closed again: the port can be taken at once
    expect(await holdPort(port)).toBe(port);
  });

  it('names TLS files that start could not use', async () => {
    const notPem = path.join(dir, 'cert.txt');
    writeFileSync(notPem, 'not a certificate\n');
    const missing = path.join(dir, 'missing-key.pem');
    const run = await runMailroom(['config', 'check'], { ...env, MAILROOM_TLS_KEY: missing, MAILROOM_TLS_CERT: notPem });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`tls: MAILROOM_TLS_KEY: cannot read ${missing} (ENOENT)\ntls: MAILROOM_TLS_CERT: ${notPem} is not a PEM certificate (-----BEGIN CERTIFICATE-----)\n`);
  });

  it('counts an empty variable as unset', async () => {
    const run = await runMailroom(['config', 'check', '--json'], { ...env, MAILROOM_WORKER_CONCURRENCY: '', MAILROOM_SMTP_PORT: '0' });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ config: { worker: { concurrency: 16 } } });
  });
});

describe('a start that fails', () => {
  const terminal = { MAILROOM_INTERNAL_FORCE_TTY: '1' };
  beforeAll(() => {
    env = { MAILROOM_DATA_DIR: path.join(dir, 'start'), MAILROOM_SMTP_PORT: '0', MAILROOM_HTTP_PORT: '0', MAILROOM_LOG_LEVEL: 'info' };
  });

  it('on a port in use says so in one line on a terminal, exit 71, no stack', async () => {
    const port = await holdPort();
    const run = await runMailroom(['start'], { ...env, ...terminal, MAILROOM_SMTP_PORT: String(port) });
    expect(run.code).toBe(71);
    expect(run.stderr).toBe(`mailroom: cannot start: MAILROOM_SMTP_PORT: port ${port} on 127.0.0.1 is in use (LISTEN_FAILED)\n`);
    expect(run.stdout).not.toMatch(STACK_LINE);
    expect(run.stdout).not.toContain('app.start_failed');
  }, 60_000);

  it('logs the JSON line instead when its output is not a terminal', async () => {
    const port = await holdPort();
    const run = await runMailroom(['start'], { ...env, MAILROOM_HTTP_PORT: String(port) });
    expect(run.code).toBe(71);
    expect(run.stderr).toBe('');
    const failed = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event?: string; code?: string; err?: { message: string } })
      .find((line) => line.event === 'app.start_failed');
    expect(failed).toMatchObject({ code: 'LISTEN_FAILED', err: { message: expect.stringContaining(`MAILROOM_HTTP_PORT: port ${port} on 127.0.0.1 is in use`) } });
  }, 60_000);

  it('on a broken rules file names the file, line and column, exit 78', async () => {
    const rules = path.join(dir, 'broken.yaml');
    writeFileSync(rules, 'mailboxes:\n  - address: soporte@example.com\n    name: Soporte\n    lenguaje: es\n');
    const run = await runMailroom(['start'], { ...env, ...terminal, MAILROOM_CONFIG: rules });
    expect(run.code).toBe(78);
    expect(run.stderr).toBe(`mailroom: cannot start: ${rules}:4:5: mailboxes[0]: Unrecognized key: "lenguaje" (CONFIG_INVALID)\n`);
  });

  it('on a missing TLS file names it, exit 78', async () => {
    const missing = path.join(dir, 'nope-cert.pem');
    const key = path.join(dir, 'nope-key.pem');
    const run = await runMailroom(['start'], { ...env, ...terminal, MAILROOM_TLS_KEY: key, MAILROOM_TLS_CERT: missing });
    expect(run.code).toBe(78);
    expect(run.stderr).toBe(`mailroom: cannot start: MAILROOM_TLS_KEY: cannot read ${key} (ENOENT) (CONFIG_INVALID)\n  MAILROOM_TLS_CERT: cannot read ${missing} (ENOENT)\n`);
  });

  it('on a database that accepts and closes every connection gives up in seconds, exit 69', async () => {
    // a container's port proxy with the database behind it down
    held = net.createServer((socket) => {
      socket.resume();
      socket.end();
    });
    await new Promise<void>((resolve) => held!.listen(0, '127.0.0.1', resolve));
    const { port } = held.address() as net.AddressInfo;
    const started = Date.now();
    const run = await runMailroom(['start'], {
      ...env,
      ...terminal,
      DATABASE_URL: `postgres://mailroom:hunter2@127.0.0.1:${port}/mailroom`,
      MAILROOM_SECRET: 's'.repeat(40),
      MAILROOM_OUTBOUND: 'outbox',
    });
    expect(run.code).toBe(69);
    expect(Date.now() - started).toBeLessThan(15_000); // tsx start-up included
    expect(run.stderr).toMatch(/^mailroom: cannot start: cannot open the database: .+ \(STORAGE_UNAVAILABLE\)\n$/);
    expect(run.stderr).not.toContain('hunter2');
  });
});
