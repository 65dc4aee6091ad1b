import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createIntakeSummary } from '../../daemon/smtp/intake-summary.js';
import { captureLogs } from '../helpers/log-capture.js';

const INFO = 30;

describe('the per-interval intake summary', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('logs the messages and bytes of each interval once, at info, and nothing while idle', () => {
    const logs = captureLogs();
    const summary = createIntakeSummary(logs.logger, { intervalMs: 1000 });
    summary.stored(5_000);
    summary.stored(7_000);
    vi.advanceTimersByTime(999);
    summary.stored(1_000);
    expect(logs.events('intake.summary')).toEqual([]);
    vi.advanceTimersByTime(1);
    vi.advanceTimersByTime(10_000);
    summary.stored(300);
    vi.advanceTimersByTime(1000);
    vi.advanceTimersByTime(10_000);
    const lines = logs.events('intake.summary');
    expect(lines.map(({ level, messages, bytes, intervalMs }) => ({ level, messages, bytes, intervalMs }))).toEqual([
      { level: INFO, messages: 3, bytes: 13_000, intervalMs: 1000 },
      { level: INFO, messages: 1, bytes: 300, intervalMs: 1000 },
    ]);
  });

  it('reports what the interval holds when flushed early (shutdown), then nothing more', () => {
    const logs = captureLogs();
    const summary = createIntakeSummary(logs.logger, { intervalMs: 1000 });
    summary.stored(2_048);
    vi.advanceTimersByTime(400);
    summary.flush();
    summary.flush();
    vi.advanceTimersByTime(5_000);
    expect(logs.events('intake.summary')).toMatchObject([{ messages: 1, bytes: 2_048, intervalMs: 400 }]);
  });
});
