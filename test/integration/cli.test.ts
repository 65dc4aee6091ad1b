import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMailroom, startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.js';
import { startTestDns, type TestDns } from '../helpers/dns-server.js';
import { databaseUrl, realMode, TEMPLATE_DATABASE } from '../helpers/mode.js';
import { flushRedisDb, ownRedisDb } from '../helpers/queue-keys.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { rawMessage, TEST_SECRET } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

const CORPUS = new URL('../../../shared/corpus/', import.meta.url);
let dns: TestDns | undefined;
let dataDir: string;
let env: Record<string, string>;
let dbName: string | null = null;
let redisUrl: string | null = null;
/** The fault suites have 9-14. */
const CLI_REDIS_DB = 8;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'mailroom-cli-'));
  // Sender checks ask a DNS server of the test's: every domain's SPF passes from loopback.
  dns = await startTestDns();
  env = { MAILROOM_DATA_DIR: dataDir, MAILROOM_SMTP_PORT: '0', MAILROOM_HTTP_PORT: '0', MAILROOM_LOG_LEVEL: 'info', MAILROOM_DNS_SERVERS: dns.address };
  if (realMode) {
    dbName = `mailroom_cli_${randomBytes(5).toString('hex')}`;
    const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${dbName} template ${TEMPLATE_DATABASE}`).finally(() => admin.end());
    redisUrl = await ownRedisDb(CLI_REDIS_DB);
    Object.assign(env, { DATABASE_URL: databaseUrl(dbName), REDIS_URL: redisUrl, MAILROOM_SECRET: TEST_SECRET, MAILROOM_OUTBOUND: 'outbox' });
  }
});
afterAll(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  await dns?.close();
  if (dbName) {
    const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`drop database if exists ${dbName} with (force)`).finally(() => admin.end());
  }
  if (redisUrl) await flushRedisDb(redisUrl);
});

interface TicketsJson {
  tickets: Array<{ number: number; subject: string; status: string; requester: string; articleCount: number }>;
}

describe('the mailroom command', () => {
  let daemon: DaemonProcess | null = null;
  afterAll(async () => {
    if (daemon && daemon.child.exitCode === null) await daemon.stop();
  });

  it('runs on the defaults, takes a mail, and the CLI shows the ticket while the daemon runs and after it stops', async () => {
    daemon = await startDaemonProcess(env);
    const raw = rawMessage({ from: 'Ana <ana@cliente.es>', subject: 'No me llegan los envíos', body: 'Desde ayer no llegan.\n\nEl vie, Ana escribió:\n> antes' });
    const sent = await sendRaw(daemon.smtpPort, { from: 'ana@cliente.es', to: ['soporte@example.com'] }, raw);
    expect(sent.code).toBe(250);

    const listed = await waitFor(async () => {
      const run = await runMailroom(['tickets', 'list', '--json'], env);
      expect(run.code, run.stderr).toBe(0);
      const json = JSON.parse(run.stdout) as TicketsJson;
      return json.tickets.length > 0 ? json : undefined;
    }, 'the ticket to be listed', 60_000);
    // The default rules ask for the missing details: the ticket waits, with our reply as a second article.
    expect(listed.tickets[0]).toMatchObject({ subject: 'No me llegan los envíos', status: 'pending', requester: 'ana@cliente.es', articleCount: 2 });
    const number = listed.tickets[0]!.number;

    const shown = await runMailroom(['tickets', 'show', String(number), '--json'], env);
    expect(shown.code, shown.stderr).toBe(0);
    const detail = JSON.parse(shown.stdout) as { ticket: { number: number }; articles: Array<{ visibleText: string }>; events: Array<{ type: string }> };
    expect(detail.ticket.number).toBe(number);
    expect(detail.articles[0]!.visibleText).toBe('Desde ayer no llegan.');
    expect(detail.events.map((e) => e.type)).toContain('ticket.created');

    const human = await runMailroom(['tickets', 'list'], env);
    expect(human.stdout).toMatch(new RegExp(`^NUMBER\\s+STATUS.*\\n${number}\\s+pending\\s+ana@cliente\\.es`, 'm'));

    const inbound = await runMailroom(['inbound', 'list', '--json'], env);
    expect((JSON.parse(inbound.stdout) as { inbound: Array<{ state: string }> }).inbound[0]!.state).toBe('processed');

    expect(await daemon.stop()).toBe(0);
    expect(daemon.logLines.some((line) => line.event === 'app.stopped')).toBe(true);
    expect(existsSync(path.join(dataDir, 'daemon.json'))).toBe(false);

    const afterStop = await runMailroom(['tickets', 'list', '--json'], env);
    expect(afterStop.code, afterStop.stderr).toBe(0);
    expect((JSON.parse(afterStop.stdout) as TicketsJson).tickets.map((t) => t.number)).toEqual([number]);
  }, 120_000); // eight CLI processes and a daemon, each starting tsx

  it('says so when a ticket does not exist', async () => {
    const run = await runMailroom(['tickets', 'show', '999999'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('mailroom: no ticket 999999\n');
  });

  it('refuses to start with a bad environment, listing every problem, before opening any port', async () => {
    const run = await runMailroom(['start'], { ...env, MAILROOM_SMTP_PORT: 'abc', MAILROOM_MAX_MESSAGE_BYTES: '-5', DATABASE_URL: 'mysql://x' });
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('MAILROOM_SMTP_PORT');
    expect(run.stderr).toContain('MAILROOM_MAX_MESSAGE_BYTES');
    expect(run.stderr).toContain('DATABASE_URL');
  });

  it('checks a rules file and names the line and path of a mistake', async () => {
    const bad = path.join(dataDir, 'bad.yaml');
    writeFileSync(bad, 'mailboxes:\n  - address: soporte@example.com\n    name: Soporte\n    lenguaje: es\n');
    const run = await runMailroom(['config', 'check'], { ...env, MAILROOM_CONFIG: bad });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:4:5: mailboxes\\[0\\]: Unrecognized key: "lenguaje"`));
    const good = await runMailroom(['config', 'check', '--json'], env);
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ ok: true, mailboxes: ['soporte@example.com'], environment: [], rules: [] });
  });

  it('parses files from the corpora and prints one JSON object per file', async () => {
    const files = [
      new URL('mime/mikel-mail/plain_emails/basic_email.eml', CORPUS),
      new URL('replies/mailgun-talon/standard_replies/apple_mail.eml', CORPUS),
    ].map((url) => url.pathname);
    const existing = files.filter((file) => existsSync(file));
    expect(existing.length).toBeGreaterThan(0);
    const run = await runMailroom(['parse', ...existing, '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { file: string; ok: boolean; autoGenerated: unknown });
    expect(lines.map((l) => l.file)).toEqual(existing);
    expect(lines.every((l) => l.ok && l.autoGenerated !== null)).toBe(true);

    // A bounce: each recipient row says which evidence decided its reason.
    const dsn = new URL('../corpus/own-bounces/maildir/bounceparser/postfix-smtp-550.eml', import.meta.url).pathname;
    const parsedDsn = await runMailroom(['parse', dsn, '--json'], env);
    expect(JSON.parse(parsedDsn.stdout)).toMatchObject({ ok: true, bounce: { kind: 'bounce', recipients: [{ recipient: 'luser@otherhost.invalid', reason: 'userunknown', hard: true, decidedBy: 'status', gaveUp: true }] } });
    const described = await runMailroom(['parse', dsn], env);
    expect(described.stdout).toMatch(/luser@otherhost\.invalid .*5\.1\.1 userunknown hard \(by status\)/);

    const bodyFile = path.join(dataDir, 'body.txt');
    writeFileSync(bodyFile, 'Gracias, ya funciona.\n\nEl lun, 2 mar 2026, Soporte escribió:\n> ¿Puede probar de nuevo?\n');
    const body = await runMailroom(['parse', bodyFile, '--body', 'text', '--json'], env);
    expect(JSON.parse(body.stdout)).toMatchObject({ ok: true, visibleText: 'Gracias, ya funciona.' });
  });

  it('rules check names the line, column and path of a mistake and exits 1', async () => {
    const bad = path.join(dataDir, 'bad-rules.yaml');
    writeFileSync(
      bad,
      [
        'mailboxes:',
        '  - address: soporte@example.com',
        '    name: Soporte',
        'fields:',
        '  - id: cuenta',
        '    label: { es: cuenta }',
        '    detect:',
        "      regex: '(a)\\1'",
        '',
      ].join('\n'),
    );
    const run = await runMailroom(['rules', 'check', bad], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/bad-rules\.yaml:8:14: fields\[0\]\.detect\.regex: invalid regular expression/);
    const json = await runMailroom(['rules', 'check', bad, '--json'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, problems: [{ line: 8, path: 'fields[0].detect.regex' }] });
    const good = await runMailroom(['rules', 'check'], env);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/soporte\.es\.yaml: ok: 1 mailbox/);
  });

  it('rules test shows the category, missing fields and the exact mail that would be sent', async () => {
    const eml = path.join(dataDir, 'question.eml');
    writeFileSync(eml, 'From: Ana <ana@cliente.es>\r\nTo: soporte@example.com\r\nSubject: No me llegan los envíos\r\nMessage-ID: <q@cliente.es>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nno me llegan los envíos, mi cuenta 123456\r\n');
    const run = await runMailroom(['rules', 'test', eml, '--json', '--number', '4242'], env);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as {
      category: { id: string };
      found: Record<string, { value: string | null }>;
      missing: Array<{ id: string }>;
      status: string;
      addTags: string[];
      mails: Array<{ kind: string; to: string; subject: string; body: string }>;
    };
    expect(report.category.id).toBe('general');
    expect(report.found.cuenta).toEqual({ value: '123456' });
    expect(report.missing.map((m) => m.id)).not.toContain('cuenta');
    expect(report.missing.length).toBeGreaterThan(0);
    expect(report.status).toBe('pending');
    expect(report.addTags).toEqual(['awaiting_details']);
    expect(report.mails).toHaveLength(1);
    expect(report.mails[0]).toMatchObject({ kind: 'acknowledgement_missing_details', to: 'ana@cliente.es' });
    expect(report.mails[0]!.subject).toContain('[#4242]');
    const human = await runMailroom(['rules', 'test', eml], env);
    expect(human.stdout).toContain('--- acknowledgement_missing_details ---');
  });
});
