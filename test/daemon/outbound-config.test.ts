import { describe, expect, it } from 'vitest';
import { parseConfig, startProblems, type Config } from '../../daemon/config.js';
import { lifetimeOver, nextAttemptAt } from '../../daemon/outbound/queue-lifetime.js';

const SECRET = 's'.repeat(40);
const configOf = (env: Record<string, string>): Config => {
  const result = parseConfig(env);
  if (!result.ok) throw new Error(result.problems.join('; '));
  return result.config;
};

describe('where outbound mail goes', () => {
  it('writes files in embedded mode without a relay, and says so', () => {
    expect(configOf({}).outboundTransport).toBe('outbox');
    expect(startProblems(configOf({}))).toEqual([]);
  });

  it('refuses to start with PostgreSQL and no relay, unless told to write files', () => {
    const production = configOf({ DATABASE_URL: 'postgres://db/mailroom', MAILROOM_SECRET: SECRET });
    expect(production.outboundTransport).toBeNull();
    expect(startProblems(production)[0]).toMatch(/^MAILROOM_SMTP_RELAY: required with DATABASE_URL/);
    expect(startProblems(configOf({ DATABASE_URL: 'postgres://db/mailroom', MAILROOM_SECRET: SECRET, MAILROOM_OUTBOUND: 'outbox' }))).toEqual([]);
    expect(configOf({ DATABASE_URL: 'postgres://db/mailroom', MAILROOM_SECRET: SECRET, MAILROOM_SMTP_RELAY: 'smtp://relay:25' }).outboundTransport).toBe('relay');
  });

  it('needs a relay to be told to use one', () => {
    expect(parseConfig({ MAILROOM_OUTBOUND: 'relay' })).toEqual({ ok: false, problems: ['MAILROOM_OUTBOUND: relay needs MAILROOM_SMTP_RELAY (smtp://host:port)'] });
  });
});

describe('the outbound queue lifetime', () => {
  it('reads durations and refuses what is not one', () => {
    expect(configOf({}).outbound).toEqual({ maxAgeMs: 2 * 86_400_000, retryMinMs: 60_000, retryMaxMs: 3_600_000 });
    expect(configOf({ MAILROOM_OUTBOUND_MAX_AGE: '36h', MAILROOM_OUTBOUND_RETRY_MIN: '250ms', MAILROOM_OUTBOUND_RETRY_MAX: '15m' }).outbound).toEqual({ maxAgeMs: 129_600_000, retryMinMs: 250, retryMaxMs: 900_000 });
    const bad = parseConfig({ MAILROOM_OUTBOUND_MAX_AGE: '2 days' });
    expect(bad.ok === false && bad.problems).toEqual(['MAILROOM_OUTBOUND_MAX_AGE: a duration such as 30s, 15m, 1h or 2d']);
  });

  it('backs off from a minute, doubling up to an hour, with jitter, never past the lifetime', () => {
    const lifetime = { maxAgeMs: 2 * 86_400_000, retryMinMs: 60_000, retryMaxMs: 3_600_000 };
    const created = new Date('2026-12-01T00:00:00Z');
    const now = new Date('2026-12-01T00:00:00Z');
    const delay = (attempt: number, random: number) => nextAttemptAt(created, attempt, now, lifetime, () => random).getTime() - now.getTime();
    expect([1, 2, 3, 7, 8, 20].map((attempt) => delay(attempt, 0.5))).toEqual([60_000, 120_000, 240_000, 3_600_000, 3_600_000, 3_600_000]);
    expect(delay(1, 0)).toBe(54_000);
    expect(delay(1, 1)).toBe(66_000);
    const late = new Date(created.getTime() + lifetime.maxAgeMs - 10_000);
    expect(nextAttemptAt(created, 30, late, lifetime).getTime()).toBe(created.getTime() + lifetime.maxAgeMs);
    expect(lifetimeOver(created, late, lifetime)).toBe(false);
    expect(lifetimeOver(created, new Date(created.getTime() + lifetime.maxAgeMs), lifetime)).toBe(true);
  });
});
