import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { StructureLimits } from '../parsers/mime-structure.js';
import { isBlank, resolveSecretFiles, type ReadTextFile } from './secret-files.js';
import { parseCidr } from './smtp/address-ranges.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/dist\/$/, '');
/** The example rules the daemon runs with when MAILROOM_CONFIG is not set. */
export const DEFAULT_RULES_FILE = path.join(PROJECT_ROOT, 'examples', 'soporte.es.yaml');

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** `90s`, `30m`, `1h`, `2d` (or `250ms`): a time span, in milliseconds; empty or unset: `fallback`. */
const duration = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((text, ctx) => {
      const match = /^(\d+)(ms|s|m|h|d)$/.exec(text?.trim() || fallback);
      if (match) return Number(match[1]) * DURATION_UNITS_MS[match[2]!]!;
      ctx.addIssue({ code: 'custom', message: 'a duration such as 30s, 15m, 1h or 2d' });
      return z.NEVER;
    });
const optionalText = z
  .string()
  .optional()
  .transform((value) => (value && value.trim() !== '' ? value.trim() : undefined));
/**
 * A URL with one of `schemes`. The problem names the schemes accepted and echoes only the scheme
 * given: the rest of a database or relay URL may hold a password.
 */
const urlWithScheme = (...schemes: string[]) =>
  optionalText.transform((value, ctx) => {
    if (value === undefined) return undefined;
    const expected = `must be a ${schemes.map((scheme) => `${scheme}://`).join(' or ')} URL`;
    const given = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
    if (given === undefined) ctx.addIssue({ code: 'custom', message: `${expected} (got a value without scheme://)` });
    else if (!schemes.includes(given)) ctx.addIssue({ code: 'custom', message: `${expected} (got ${given}://…)` });
    else if (!URL.canParse(value)) ctx.addIssue({ code: 'custom', message: `${expected}; this ${given}:// URL does not parse (a password with @ : / # ? must be percent-encoded)` });
    else return value;
    return z.NEVER;
  });
/** '' or spaces: unset, so the default applies (`X=` in an env file must not mean 0 or an empty name). */
const withoutBlanks = (env: unknown): unknown =>
  env && typeof env === 'object' ? Object.fromEntries(Object.entries(env).filter(([, value]) => typeof value !== 'string' || !isBlank(value))) : env;

/**
 * Every environment variable mailroom reads, with its default. README's configuration table
 * mirrors this schema.
 */
export const envSchema = z.preprocess(withoutBlanks, z.object({
  MAILROOM_SMTP_HOST: z.string().min(1).default('127.0.0.1'),
  MAILROOM_SMTP_PORT: port.default(2525),
  MAILROOM_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  MAILROOM_HTTP_PORT: port.default(8025),
  MAILROOM_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: urlWithScheme('postgres', 'postgresql'),
  REDIS_URL: urlWithScheme('redis', 'rediss'),
  MAILROOM_CONFIG: optionalText,
  MAILROOM_SECRET: optionalText.pipe(z.string().min(32, 'at least 32 characters').optional()),
  MAILROOM_MAX_MESSAGE_BYTES: positiveInt.default(25 * 1024 * 1024),
  MAILROOM_MAX_RECIPIENTS: positiveInt.default(100),
  MAILROOM_SMTP_MAX_CONNECTIONS: positiveInt.default(200),
  MAILROOM_SMTP_IDLE_TIMEOUT_MS: positiveInt.default(60_000),
  MAILROOM_SMTP_MAX_CONNECTIONS_PER_IP: positiveInt.default(20),
  MAILROOM_SMTP_CONNECTIONS_PER_MINUTE_PER_IP: positiveInt.default(120),
  MAILROOM_SMTP_MAX_SESSION_MS: positiveInt.default(600_000),
  MAILROOM_SMTP_MIN_DATA_RATE: z.coerce.number().int().min(0).default(1024),
  MAILROOM_SMTP_DATA_GRACE_MS: positiveInt.default(60_000),
  MAILROOM_TRUSTED_RELAYS: optionalText,
  MAILROOM_TRUSTED_AUTHSERV_IDS: optionalText,
  MAILROOM_MAX_MIME_PARTS: positiveInt.default(1000),
  MAILROOM_DNS_SERVERS: optionalText,
  MAILROOM_MAX_MIME_DEPTH: positiveInt.default(32),
  MAILROOM_SHUTDOWN_GRACE_MS: positiveInt.default(30_000),
  MAILROOM_SMTP_RELAY: urlWithScheme('smtp', 'smtps'),
  MAILROOM_OUTBOUND: optionalText.pipe(z.enum(['relay', 'outbox']).optional()),
  MAILROOM_TLS_KEY: optionalText,
  MAILROOM_TLS_CERT: optionalText,
  MAILROOM_HOSTNAME: z.string().min(1).default(os.hostname()),
  MAILROOM_WORKER_CONCURRENCY: z.coerce.number().int().min(0).default(16),
  MAILROOM_MAX_ATTEMPTS: positiveInt.default(5),
  MAILROOM_OUTBOUND_MAX_AGE: duration('2d'),
  MAILROOM_OUTBOUND_RETRY_MIN: duration('1m'),
  MAILROOM_OUTBOUND_RETRY_MAX: duration('1h'),
  MAILROOM_WEBHOOK_MAX_AGE: duration('3d'),
  MAILROOM_WEBHOOK_RETRY_MIN: duration('10s'),
  MAILROOM_WEBHOOK_RETRY_MAX: duration('1h'),
  MAILROOM_WEBHOOK_TIMEOUT: duration('10s'),
  MAILROOM_WEBHOOK_POLL_INTERVAL: duration('1s'),
  MAILROOM_SOFT_BOUNCE_LIMIT: positiveInt.default(10),
  MAILROOM_API_TOKEN: optionalText.pipe(z.string().min(16, 'at least 16 characters').optional()),
  MAILROOM_API_TOKENS_FILE: optionalText,
  MAILROOM_SWEEP_INTERVAL_MS: positiveInt.default(30_000),
  MAILROOM_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
}));

export interface Config {
  smtp: {
    host: string;
    port: number;
    hostname: string;
    maxMessageBytes: number;
    maxRecipients: number;
    maxConnections: number;
    /** A client silent for this long is disconnected (RFC 5321 §4.5.3.2 allows 5 min; we are stricter). */
    idleTimeoutMs: number;
    /** On shutdown, sessions still busy after this get 421. */
    shutdownGraceMs: number;
    /** Per client address; trusted relays are exempt (everything behind them shares their address). */
    maxConnectionsPerAddress: number;
    maxConnectionsPerAddressPerMinute: number;
    /** A session still open after this is closed with 421 4.4.2. */
    maxSessionMs: number;
    /** A message arriving slower than this on average (bytes per second) after `dataGraceMs` is cut off with 421 4.4.2. */
    minDataBytesPerSecond: number;
    dataGraceMs: number;
    /** CIDR ranges of the relays mail reaches mailroom through, e.g. the company's Postfix. */
    trustedRelays: string[];
    /**
     * The authserv-ids (RFC 8601) of those relays: their Authentication-Results header, added on
     * top of the message, gives the SPF result (they saw the real client).
     */
    trustedAuthservIds: string[];
    /** Message structure refused during DATA with 554 5.6.0. */
    structure: StructureLimits;
    tls: { keyFile: string; certFile: string } | null;
  };
  http: { host: string; port: number };
  /** DNS servers for sender authentication (`host` or `host:port`); empty: the system's. */
  dnsServers: string[];
  dataDir: string;
  databaseUrl: string | null;
  redisUrl: string | null;
  rulesFile: string;
  /** Null in embedded mode until the daemon generates or reads one in the data folder. */
  secret: string | null;
  smtpRelay: string | null;
  /**
   * Where outbound mail goes: the relay, or .eml files in `outboxDir`. Null when that is not
   * decided: PostgreSQL (production) without a relay and without MAILROOM_OUTBOUND=outbox; the
   * daemon then refuses to start rather than write customers' mail into a folder.
   */
  outboundTransport: 'relay' | 'outbox' | null;
  outboxDir: string;
  /** Bearer token of the HTTP API for agents' tools (role admin); null: none. */
  apiToken: string | null;
  /** YAML file of named API tokens with their roles (daemon/http/api/tokens-file.ts), read at start; null: none. */
  apiTokensFile: string | null;
  /** Soft bounces after which an address is suppressed for automatic mail. */
  softBounceLimit: number;
  worker: { concurrency: number; maxAttempts: number; sweepIntervalMs: number };
  /**
   * Outbound mail is retried like an MTA's queue: backoff from `retryMinMs` doubling up to
   * `retryMaxMs`, with jitter, until it is `maxAgeMs` old; then what is still undelivered expires.
   */
  outbound: { maxAgeMs: number; retryMinMs: number; retryMaxMs: number };
  /** Webhook deliveries: tried from `retryMinMs` doubling up to `retryMaxMs` until `maxAgeMs` old; each POST gets `timeoutMs`. */
  webhooks: { maxAgeMs: number; retryMinMs: number; retryMaxMs: number; timeoutMs: number; pollIntervalMs: number };
  logLevel: z.output<typeof envSchema>['MAILROOM_LOG_LEVEL'];
}

export type ConfigResult = { ok: true; config: Config } | { ok: false, problems: string[] };

/**
 * Parses the environment once; lists every bad variable instead of stopping at the first.
 * `readFile` reads the files `*_FILE` variables name (secret-files.ts).
 */
export function parseConfig(env: Record<string, string | undefined>, readFile: ReadTextFile = (file) => readFileSync(file, 'utf8')): ConfigResult {
  const files = resolveSecretFiles(env, readFile);
  const parsed = envSchema.safeParse(files.env);
  if (!parsed.success || files.problems.length > 0) {
    const named = (variable: string) => (files.fromFile.has(variable) ? `${variable} (from ${variable}_FILE)` : variable);
    const issues = parsed.success ? [] : parsed.error.issues.map((issue) => `${named(issue.path.join('.')) || 'environment'}: ${issue.message}`);
    return { ok: false, problems: [...files.problems, ...issues] };
  }
  const e = parsed.data;
  const problems: string[] = [];
  if ((e.MAILROOM_TLS_KEY === undefined) !== (e.MAILROOM_TLS_CERT === undefined)) {
    problems.push('MAILROOM_TLS_KEY and MAILROOM_TLS_CERT: set both or neither');
  }
  const trustedRelays = e.MAILROOM_TRUSTED_RELAYS?.split(',').map((range) => range.trim()).filter(Boolean);
  for (const range of trustedRelays ?? []) {
    if (!parseCidr(range)) problems.push(`MAILROOM_TRUSTED_RELAYS: "${range}" is not an address range such as 10.0.0.0/8, 192.0.2.7 or 2001:db8::/32`);
  }
  if (e.MAILROOM_TRUSTED_AUTHSERV_IDS?.trim() && !trustedRelays?.length) {
    // An Authentication-Results header proves nothing unless a relay we trust wrote it.
    problems.push('MAILROOM_TRUSTED_AUTHSERV_IDS: needs MAILROOM_TRUSTED_RELAYS (the relays that write those headers)');
  }
  const dnsServers = e.MAILROOM_DNS_SERVERS?.split(',').map((server) => server.trim()).filter(Boolean);
  for (const server of dnsServers ?? []) {
    const host = server.replace(/^\[(.*)\](:\d+)?$/, '$1').replace(/:\d{1,5}$/, '');
    if (isIP(host) === 0) problems.push(`MAILROOM_DNS_SERVERS: "${server}" is not an address such as 192.0.2.53 or 127.0.0.1:5353`);
  }
  if (e.MAILROOM_OUTBOUND === 'relay' && !e.MAILROOM_SMTP_RELAY) problems.push('MAILROOM_OUTBOUND: relay needs MAILROOM_SMTP_RELAY (smtp://host:port)');
  if (e.MAILROOM_OUTBOUND_RETRY_MIN > e.MAILROOM_OUTBOUND_RETRY_MAX) problems.push('MAILROOM_OUTBOUND_RETRY_MIN: longer than MAILROOM_OUTBOUND_RETRY_MAX');
  if (e.MAILROOM_WEBHOOK_RETRY_MIN > e.MAILROOM_WEBHOOK_RETRY_MAX) problems.push('MAILROOM_WEBHOOK_RETRY_MIN: longer than MAILROOM_WEBHOOK_RETRY_MAX');
  if (e.DATABASE_URL && !e.MAILROOM_SECRET) {
    // Several instances share one database: they must sign tokens with the same key.
    problems.push('MAILROOM_SECRET: required when DATABASE_URL is set (at least 32 characters)');
  }
  if (problems.length > 0) return { ok: false, problems };
  const dataDir = path.resolve(e.MAILROOM_DATA_DIR);
  const config: Config = {
    smtp: {
      host: e.MAILROOM_SMTP_HOST,
      port: e.MAILROOM_SMTP_PORT,
      hostname: e.MAILROOM_HOSTNAME,
      maxMessageBytes: e.MAILROOM_MAX_MESSAGE_BYTES,
      maxRecipients: e.MAILROOM_MAX_RECIPIENTS,
      maxConnections: e.MAILROOM_SMTP_MAX_CONNECTIONS,
      idleTimeoutMs: e.MAILROOM_SMTP_IDLE_TIMEOUT_MS,
      shutdownGraceMs: e.MAILROOM_SHUTDOWN_GRACE_MS,
      maxConnectionsPerAddress: e.MAILROOM_SMTP_MAX_CONNECTIONS_PER_IP,
      maxConnectionsPerAddressPerMinute: e.MAILROOM_SMTP_CONNECTIONS_PER_MINUTE_PER_IP,
      maxSessionMs: e.MAILROOM_SMTP_MAX_SESSION_MS,
      minDataBytesPerSecond: e.MAILROOM_SMTP_MIN_DATA_RATE,
      dataGraceMs: e.MAILROOM_SMTP_DATA_GRACE_MS,
      trustedRelays: trustedRelays ?? [],
      trustedAuthservIds: e.MAILROOM_TRUSTED_AUTHSERV_IDS?.split(',').map((id) => id.trim().toLowerCase()).filter(Boolean) ?? [],
      // RFC 5322 allows 998 octets a line; ten times that is no mail client's output.
      structure: { maxHeaderLineBytes: 9980, maxHeaderBlockBytes: 1024 * 1024, maxParts: e.MAILROOM_MAX_MIME_PARTS, maxDepth: e.MAILROOM_MAX_MIME_DEPTH },
      tls: e.MAILROOM_TLS_KEY && e.MAILROOM_TLS_CERT ? { keyFile: e.MAILROOM_TLS_KEY, certFile: e.MAILROOM_TLS_CERT } : null,
    },
    http: { host: e.MAILROOM_HTTP_HOST, port: e.MAILROOM_HTTP_PORT },
    dnsServers: dnsServers ?? [],
    dataDir,
    databaseUrl: e.DATABASE_URL ?? null,
    redisUrl: e.REDIS_URL ?? null,
    rulesFile: path.resolve(e.MAILROOM_CONFIG ?? DEFAULT_RULES_FILE),
    secret: e.MAILROOM_SECRET ?? null,
    smtpRelay: e.MAILROOM_SMTP_RELAY ?? null,
    outboundTransport: e.MAILROOM_OUTBOUND === 'outbox' ? 'outbox' : e.MAILROOM_SMTP_RELAY ? 'relay' : e.DATABASE_URL ? null : 'outbox',
    outboxDir: path.join(dataDir, 'outbox'),
    apiToken: e.MAILROOM_API_TOKEN ?? null,
    apiTokensFile: e.MAILROOM_API_TOKENS_FILE === undefined ? null : path.resolve(e.MAILROOM_API_TOKENS_FILE),
    softBounceLimit: e.MAILROOM_SOFT_BOUNCE_LIMIT,
    worker: {
      concurrency: e.MAILROOM_WORKER_CONCURRENCY,
      maxAttempts: e.MAILROOM_MAX_ATTEMPTS,
      sweepIntervalMs: e.MAILROOM_SWEEP_INTERVAL_MS,
    },
    outbound: { maxAgeMs: e.MAILROOM_OUTBOUND_MAX_AGE, retryMinMs: e.MAILROOM_OUTBOUND_RETRY_MIN, retryMaxMs: e.MAILROOM_OUTBOUND_RETRY_MAX },
    webhooks: {
      maxAgeMs: e.MAILROOM_WEBHOOK_MAX_AGE,
      retryMinMs: e.MAILROOM_WEBHOOK_RETRY_MIN,
      retryMaxMs: e.MAILROOM_WEBHOOK_RETRY_MAX,
      timeoutMs: e.MAILROOM_WEBHOOK_TIMEOUT,
      pollIntervalMs: e.MAILROOM_WEBHOOK_POLL_INTERVAL,
    },
    logLevel: e.MAILROOM_LOG_LEVEL,
  };
  return { ok: true, config: Object.freeze(config) };
}

/** A URL with its password replaced by ***, for logs and printed config. */
export function hidePassword(url: string | null): string | null {
  return url ? url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@') : null;
}

/** The config with secrets and credentials hidden, for `--print-config` and `config check`. */
export function redactConfig(config: Config): Record<string, unknown> {
  return {
    ...config,
    databaseUrl: hidePassword(config.databaseUrl),
    redisUrl: hidePassword(config.redisUrl),
    smtpRelay: hidePassword(config.smtpRelay),
    secret: config.secret ? '***' : null,
    apiToken: config.apiToken ? '***' : null,
  };
}

/** What stops the daemon from starting though every variable is valid on its own (`config check` lists it too). */
export function startProblems(config: Config): string[] {
  return config.outboundTransport === null
    ? ['MAILROOM_SMTP_RELAY: required with DATABASE_URL (production), or set MAILROOM_OUTBOUND=outbox to write outbound mail to files in the data folder']
    : [];
}
