import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeQueueKeys } from './queue-keys.js';
import postgres from 'postgres';
import { inject } from 'vitest';
import { createApp, type App } from '../../daemon/app.js';
import { parseConfig, type Config } from '../../daemon/config.js';
import { loadOrCreateSecret, pgliteDir } from '../../daemon/data-dir.js';
import type { Db } from '../../db/client.js';
import { captureLogs, type LogLine } from './log-capture.js';
import { databaseUrl, realMode, TEMPLATE_DATABASE } from './mode.js';
import { startTestDns, type TestDns } from './dns-server.js';
import { sendRaw, type SendResult } from './smtp-client.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const TEST_SECRET = 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz';

export interface TestAppOptions {
  /** Rules YAML text, or the name of a file in test/fixtures/rules; default helpdesk.yaml. */
  rules?: string;
  env?: Record<string, string>;
  /** Lets a test route the daemon's database traffic, e.g. through a proxy it can cut. */
  rewriteDatabaseUrl?: (url: string) => string;
}

export interface TestApp {
  app: App;
  config: Config;
  smtpPort: number;
  httpPort: number;
  secret: string;
  dataDir: string;
  rulesFile: string;
  databaseUrl: string | null;
  /** The DNS server the daemon's sender checks ask: every domain passes SPF from loopback unless a test sets otherwise. */
  dns: TestDns;
  logs: { lines: LogLine[]; events(name: string): LogLine[] };
  readonly db: Db;
  send(envelope: { from: string; to: string[] }, raw: string | Buffer, options?: { localAddress?: string }): Promise<SendResult>;
  /** Stops and starts the daemon on the same database (a restart after a crash or deploy). */
  restart(): Promise<void>;
  /** Stops the daemon and removes what the test created (database, queue keys, data folder). */
  close(): Promise<void>;
}

/**
 * Starts the real daemon (createApp) on 127.0.0.1 port 0: PGlite + in-process queue in embedded
 * mode; a fresh database cloned from the migrated template + a unique BullMQ prefix in real mode.
 */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mailroom-test-'));
  const rulesFile = path.join(dataDir, 'rules.yaml');
  const rules = options.rules ?? 'helpdesk.yaml';
  writeFileSync(rulesFile, rules.endsWith('.yaml') && !rules.includes('\n') ? readFileSync(path.join(FIXTURES, 'rules', rules), 'utf8') : rules);
  const suffix = randomBytes(6).toString('hex');
  let dbUrl: string | null = null;
  // Embedded: start from a copy of the migrated template rather than creating a database (5 s each).
  const template = realMode ? null : inject('pgliteTemplate');
  if (template) cpSync(template, pgliteDir(dataDir), { recursive: true });
  if (realMode) {
    const name = `mailroom_t_${suffix}`;
    const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`create database ${name} template ${TEMPLATE_DATABASE}`);
    } finally {
      await admin.end();
    }
    dbUrl = databaseUrl(name);
  }
  const appDbUrl = dbUrl && options.rewriteDatabaseUrl ? options.rewriteDatabaseUrl(dbUrl) : dbUrl;
  const dns = await startTestDns();
  const env: Record<string, string> = {
    MAILROOM_DNS_SERVERS: dns.address,
    MAILROOM_SMTP_PORT: '0',
    MAILROOM_HTTP_PORT: '0',
    MAILROOM_DATA_DIR: dataDir,
    MAILROOM_CONFIG: rulesFile,
    MAILROOM_HOSTNAME: 'mailroom.test',
    MAILROOM_LOG_LEVEL: 'debug',
    // The suites send from 127.0.0.1 as fast as they can, like a relay in front of mailroom; the
    // per-client limits are tested from other loopback addresses.
    MAILROOM_TRUSTED_RELAYS: '127.0.0.1/32',
    ...(realMode ? { DATABASE_URL: appDbUrl!, REDIS_URL: process.env.REDIS_URL!, MAILROOM_SECRET: TEST_SECRET, MAILROOM_OUTBOUND: options.env?.MAILROOM_SMTP_RELAY ? 'relay' : 'outbox' } : {}),
    ...options.env,
  };
  const parsed = parseConfig(env);
  if (!parsed.ok) throw new Error(`test config invalid: ${parsed.problems.join('; ')}`);
  const config = parsed.config;
  const logs = captureLogs();
  const queuePrefix = `mrtest-${suffix}`;
  const secret = config.secret ?? loadOrCreateSecret(dataDir);

  let app = createApp(config, { logger: logs.logger, queuePrefix, environment: env });
  let ports = await app.start();

  const testApp: TestApp = {
    get app() {
      return app;
    },
    config,
    get smtpPort() {
      return ports.smtpPort;
    },
    get httpPort() {
      return ports.httpPort;
    },
    secret,
    dataDir,
    rulesFile,
    databaseUrl: dbUrl,
    dns,
    logs,
    get db() {
      return app.db;
    },
    send: (envelope, raw, sendOptions) => sendRaw(ports.smtpPort, envelope, raw, sendOptions),
    async restart() {
      await app.stop();
      app = createApp(config, { logger: logs.logger, queuePrefix, environment: env });
      ports = await app.start();
    },
    async close() {
      await app.stop().catch(() => undefined);
      if (realMode) {
        const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
        await admin.unsafe(`drop database if exists mailroom_t_${suffix} with (force)`).finally(() => admin.end());
        await removeQueueKeys(queuePrefix);
      }
      rmSync(dataDir, { recursive: true, force: true });
      await dns.close();
    },
  };
  return testApp;
}

let counter = 0;
/** Builds a raw RFC 5322 message with CRLF line ends; headers are given in order. */
export function rawMessage(options: {
  from: string;
  to?: string;
  cc?: string;
  subject: string;
  body?: string;
  messageId?: string;
  inReplyTo?: string;
  references?: string;
  headers?: Record<string, string>;
}): string {
  counter += 1;
  const lines = [
    `From: ${options.from}`,
    `To: ${options.to ?? 'soporte@example.com'}`,
    ...(options.cc ? [`Cc: ${options.cc}`] : []),
    `Subject: ${options.subject}`,
    `Date: Sat, 21 Nov 2026 10:00:00 +0000`,
    `Message-ID: <${options.messageId ?? `m${Date.now()}.${counter}.${randomBytes(4).toString('hex')}@client.test`}>`,
    ...(options.inReplyTo ? [`In-Reply-To: <${options.inReplyTo}>`] : []),
    ...(options.references ? [`References: ${options.references}`] : []),
    ...Object.entries(options.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    options.body ?? 'Hello, I need help.',
    '',
  ];
  return lines.join('\r\n');
}
