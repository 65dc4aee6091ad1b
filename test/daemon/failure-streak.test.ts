import { describe, expect, it } from 'vitest';
import { createFailureStreak } from '../../daemon/failure-streak.js';
import { captureLogs } from '../helpers/log-capture.js';

const events = {
  started: { event: 'dep.down', msg: 'down' },
  repeated: { event: 'dep.error', msg: 'still down' },
  ended: { event: 'dep.up', msg: 'up' },
};

describe('a failure streak', () => {
  it('logs the first failure at WARN, the rest at DEBUG, and the recovery with the count and duration', () => {
    const logs = captureLogs();
    let now = 1_000;
    const streak = createFailureStreak(logs.logger, events, () => now);
    streak.succeed();
    expect(logs.lines).toEqual([]);

    streak.fail(new Error('connect ECONNREFUSED'), { queue: 'q' });
    for (let i = 0; i < 5; i++) streak.fail(new Error('connect ECONNREFUSED'));
    expect(streak.isFailing()).toBe(true);
    now = 4_500;
    streak.succeed();
    streak.succeed();

    expect(logs.events('dep.down')).toEqual([expect.objectContaining({ level: 40, queue: 'q', err: expect.objectContaining({ message: 'connect ECONNREFUSED' }) })]);
    expect(logs.events('dep.error').map((line) => line.level)).toEqual([20, 20, 20, 20, 20]);
    expect(logs.events('dep.up')).toEqual([expect.objectContaining({ level: 30, suppressedErrors: 5, downMs: 3_500 })]);
    expect(streak.isFailing()).toBe(false);
  });

  it('starts a new streak, with its own WARN, after a recovery', () => {
    const logs = captureLogs();
    const streak = createFailureStreak(logs.logger, events);
    streak.fail(new Error('a'));
    streak.succeed();
    streak.fail(new Error('b'));
    expect(logs.events('dep.down').map((line) => (line.err as { message: string }).message)).toEqual(['a', 'b']);
    expect(logs.events('dep.up')[0]).toMatchObject({ suppressedErrors: 0 });
  });
});
