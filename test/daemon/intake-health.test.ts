import { describe, expect, it } from 'vitest';
import { createIntakeHealth } from '../../daemon/smtp/intake-health.js';

describe('intake readiness from recent spool writes', () => {
  it('is ready through isolated failures, not ready after three in a row, and ready again at the next commit', () => {
    const health = createIntakeHealth({ windowMs: 30_000, failuresInARow: 3 });
    health.failed(new Error('blip'), 1_000);
    health.stored();
    health.failed(new Error('blip'), 2_000);
    health.failed(new Error('blip'), 2_100);
    expect(health.status(2_200)).toEqual({ ok: true });
    health.failed(new Error('disk full'), 2_300);
    const status = health.status(2_400);
    expect(status.ok).toBe(false);
    expect(!status.ok && status.error).toMatch(/last 3 spool writes failed .*disk full/);
    health.stored();
    expect(health.status(2_500)).toEqual({ ok: true });
  });

  it('lets failures age out, so an instance no mail reaches any more can be tried again', () => {
    const health = createIntakeHealth({ windowMs: 30_000, failuresInARow: 3 });
    for (const at of [0, 10, 20]) health.failed(new Error('refused'), at);
    expect(health.status(29_000).ok).toBe(false);
    expect(health.status(31_000)).toEqual({ ok: true });
    // failures farther apart than the window are not one outage
    health.failed(new Error('refused'), 100_000);
    health.failed(new Error('refused'), 140_000);
    health.failed(new Error('refused'), 180_000);
    expect(health.status(180_001)).toEqual({ ok: true });
  });
});
