import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES_FILE, parseConfig, redactConfig } from '../../daemon/config.js';

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
