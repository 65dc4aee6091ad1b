import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_RULES_FILE, envSchema, parseConfig, redactConfig } from '../../daemon/config.js';

describe('configuration from the environment', () => {
  it('runs on defaults with no variables at all', () => {
    const result = parseConfig({});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const c = result.config;
    expect([c.smtp.host, c.smtp.port, c.http.port, c.smtp.maxMessageBytes, c.smtp.maxRecipients]).toEqual(['127.0.0.1', 2525, 8025, 25 * 1024 * 1024, 100]);
    expect(c.databaseUrl).toBeNull();
    expect(c.redisUrl).toBeNull();
    expect(c.rulesFile).toBe(DEFAULT_RULES_FILE);
    expect(c.dataDir.endsWith('/data')).toBe(true);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('lists every invalid variable at once', () => {
    const result = parseConfig({ MAILROOM_SMTP_PORT: '99999', MAILROOM_HTTP_PORT: 'x', REDIS_URL: 'http://nope', MAILROOM_LOG_LEVEL: 'loud' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const names = result.problems.map((p) => p.split(':')[0]);
    expect(names).toEqual(expect.arrayContaining(['MAILROOM_SMTP_PORT', 'MAILROOM_HTTP_PORT', 'REDIS_URL', 'MAILROOM_LOG_LEVEL']));
  });

  it('requires a shared secret when instances share PostgreSQL', () => {
    const result = parseConfig({ DATABASE_URL: 'postgres://u:p@db/mailroom' });
    expect(result).toEqual({ ok: false, problems: ['MAILROOM_SECRET: required when DATABASE_URL is set (at least 32 characters)'] });
  });

  it('trusts an authserv-id only together with the relays that write it', () => {
    expect(parseConfig({ MAILROOM_TRUSTED_AUTHSERV_IDS: 'mx.example.com' })).toEqual({
      ok: false,
      problems: ['MAILROOM_TRUSTED_AUTHSERV_IDS: needs MAILROOM_TRUSTED_RELAYS (the relays that write those headers)'],
    });
    const result = parseConfig({ MAILROOM_TRUSTED_RELAYS: '10.0.0.0/8', MAILROOM_TRUSTED_AUTHSERV_IDS: ' MX.Example.com , relay2.example.com' });
    expect(result.ok && result.config.smtp.trustedAuthservIds).toEqual(['mx.example.com', 'relay2.example.com']);
  });

  it('needs both TLS files or neither', () => {
    const result = parseConfig({ MAILROOM_TLS_KEY: '/k.pem' });
    expect(result.ok).toBe(false);
  });

  it('hides passwords and the secret when printing', () => {
    const result = parseConfig({ DATABASE_URL: 'postgres://mail:hunter2@db:5432/mailroom', MAILROOM_SECRET: 's'.repeat(40), REDIS_URL: 'redis://:pw@cache:6379' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const printed = JSON.stringify(redactConfig(result.config));
    expect(printed).not.toContain('hunter2');
    expect(printed).not.toContain('s'.repeat(40));
    expect(printed).not.toContain(':pw@');
    expect(printed).toContain('postgres://mail:***@db:5432/mailroom');
  });
});

describe('an empty variable', () => {
  const variables = Object.keys(envSchema.out.shape);

  it.each([
    ['empty', ''],
    ['spaces', '  '],
  ])('is unset for every variable when %s: the defaults apply', (_, blank) => {
    const everyBlank = Object.fromEntries([...variables, 'MAILROOM_SECRET_FILE', 'DATABASE_URL_FILE', 'MAILROOM_API_TOKEN_FILE'].map((name) => [name, blank]));
    expect(parseConfig(everyBlank)).toEqual(parseConfig({}));
  });

  it('keeps the worker running and the SMTP port fixed', () => {
    const result = parseConfig({ MAILROOM_WORKER_CONCURRENCY: '', MAILROOM_SMTP_PORT: ' ', MAILROOM_HTTP_PORT: '' });
    expect(result.ok && [result.config.worker.concurrency, result.config.smtp.port, result.config.http.port]).toEqual([16, 2525, 8025]);
    const explicit = parseConfig({ MAILROOM_WORKER_CONCURRENCY: '0', MAILROOM_SMTP_PORT: '0' });
    expect(explicit.ok && [explicit.config.worker.concurrency, explicit.config.smtp.port]).toEqual([0, 0]);
  });
});

describe('a URL with the wrong scheme', () => {
  const problemsOf = (env: Record<string, string>) => {
    const result = parseConfig(env);
    return result.ok ? [] : result.problems;
  };

  it.each([
    ['DATABASE_URL', 'mysql://root:hunter2@db:3306/mailroom', 'DATABASE_URL: must be a postgres:// or postgresql:// URL (got mysql://…)'],
    ['REDIS_URL', 'http://:hunter2@cache:6379', 'REDIS_URL: must be a redis:// or rediss:// URL (got http://…)'],
    ['MAILROOM_SMTP_RELAY', 'SMTPS-X://mail:hunter2@relay:465', 'MAILROOM_SMTP_RELAY: must be a smtp:// or smtps:// URL (got smtps-x://…)'],
    ['MAILROOM_SMTP_RELAY', 'mail:hunter2@relay.example.com:587', 'MAILROOM_SMTP_RELAY: must be a smtp:// or smtps:// URL (got a value without scheme://)'],
  ])('%s=%s names the schemes accepted and never the password', (name, value, problem) => {
    const problems = problemsOf({ [name]: value, MAILROOM_SECRET: 's'.repeat(40) });
    expect(problems).toEqual([problem]);
    expect(problems.join()).not.toContain('hunter2');
  });

  it('says a URL with an accepted scheme does not parse, without echoing it', () => {
    const problems = problemsOf({ REDIS_URL: 'redis://:hunter2@cache:notaport' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL; this redis:\/\/ URL does not parse/);
    expect(problems[0]).not.toContain('hunter2');
  });

  it('accepts every scheme it names', () => {
    const result = parseConfig({ DATABASE_URL: 'postgresql://u:p@db/mailroom', MAILROOM_SECRET: 's'.repeat(40), REDIS_URL: 'rediss://cache:6380', MAILROOM_SMTP_RELAY: 'smtps://relay:465' });
    expect(result.ok && [result.config.databaseUrl, result.config.redisUrl, result.config.smtpRelay]).toEqual(['postgresql://u:p@db/mailroom', 'rediss://cache:6380', 'smtps://relay:465']);
  });
});

describe('secrets read from files', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailroom-secret-files-'));
  const file = (name: string, text: string): string => {
    const at = path.join(dir, name);
    writeFileSync(at, text);
    return at;
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads MAILROOM_SECRET_FILE, DATABASE_URL_FILE and MAILROOM_API_TOKEN_FILE without their trailing newline', () => {
    const result = parseConfig({
      MAILROOM_SECRET_FILE: file('secret', `${'k'.repeat(40)}\n`),
      DATABASE_URL_FILE: file('database-url', 'postgres://mail:hunter2@db:5432/mailroom\r\n'),
      MAILROOM_API_TOKEN_FILE: file('token', 't'.repeat(20)),
    });
    expect(result.ok && [result.config.secret, result.config.databaseUrl, result.config.apiToken]).toEqual(['k'.repeat(40), 'postgres://mail:hunter2@db:5432/mailroom', 't'.repeat(20)]);
  });

  it('refuses a variable set both directly and by file', () => {
    expect(parseConfig({ MAILROOM_API_TOKEN: 't'.repeat(20), MAILROOM_API_TOKEN_FILE: file('token2', 't'.repeat(20)) })).toEqual({
      ok: false,
      problems: ['MAILROOM_API_TOKEN and MAILROOM_API_TOKEN_FILE: set one or the other'],
    });
  });

  it('names a file it cannot read, and an empty one, with the other problems', () => {
    const missing = path.join(dir, 'missing');
    const unreadable = file('unreadable', 'x'.repeat(40));
    chmodSync(unreadable, 0o000);
    const empty = file('empty', '\n');
    const result = parseConfig({ MAILROOM_SECRET_FILE: missing, DATABASE_URL_FILE: empty, MAILROOM_API_TOKEN_FILE: unreadable, MAILROOM_SMTP_PORT: 'x' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0]).toBe(`MAILROOM_SECRET_FILE: cannot read ${missing} (ENOENT)`);
    expect(result.problems[1]).toBe(`DATABASE_URL_FILE: ${empty} is empty`);
    // root reads a file whatever its mode: then the token is valid and only the others remain
    if (process.getuid?.() !== 0) expect(result.problems[2]).toBe(`MAILROOM_API_TOKEN_FILE: cannot read ${unreadable} (EACCES)`);
    expect(result.problems.at(-1)).toMatch(/^MAILROOM_SMTP_PORT: /);
  });

  it('says a value from a file is wrong under the variable and where it came from', () => {
    expect(parseConfig({ MAILROOM_SECRET_FILE: file('short', 'short\n') })).toEqual({
      ok: false,
      problems: ['MAILROOM_SECRET (from MAILROOM_SECRET_FILE): at least 32 characters'],
    });
  });

  it('reads the files through the reader it is given', () => {
    const read: string[] = [];
    const result = parseConfig({ MAILROOM_SECRET_FILE: '/run/secrets/mailroom' }, (name) => {
      read.push(name);
      return 'r'.repeat(32);
    });
    expect(read).toEqual(['/run/secrets/mailroom']);
    expect(result.ok && result.config.secret).toBe('r'.repeat(32));
  });
});
