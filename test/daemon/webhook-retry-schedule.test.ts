import { describe, expect, it } from 'vitest';
import { nextWebhookAttempt } from '../../daemon/webhooks/retry-schedule.js';

const schedule = { retryMinMs: 10_000, retryMaxMs: 3_600_000, maxAgeMs: 3 * 86_400_000 };
const now = new Date('2026-12-04T12:00:00Z');
const farAway = new Date(now.getTime() + schedule.maxAgeMs);
const delayAfter = (attempt: number, random: number) => nextWebhookAttempt(attempt, now, farAway, schedule, () => random)!.getTime() - now.getTime();

describe('webhook retry schedule', () => {
  it('waits 10 s after the first failure, doubling up to an hour', () => {
    expect([1, 2, 3, 4].map((attempt) => delayAfter(attempt, 0.5))).toEqual([10_000, 20_000, 40_000, 80_000]);
    expect(delayAfter(20, 0.5)).toBe(3_600_000);
  });

  it('spreads retries by ±10 %', () => {
    expect([delayAfter(1, 0), delayAfter(1, 1)]).toEqual([9_000, 11_000]);
  });

  it('makes the last try when the lifetime ends, and none after', () => {
    const soon = new Date(now.getTime() + 5_000);
    expect(nextWebhookAttempt(3, now, soon, schedule, () => 0.5)).toEqual(soon);
    expect(nextWebhookAttempt(4, soon, soon, schedule)).toBeNull();
  });
});
