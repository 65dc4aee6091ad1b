import type { Logger } from './logger.js';

export interface FailureStreakEvents {
  /** WARN, with the first failure of a streak. */
  started: { event: string; msg: string };
  /** DEBUG, each further failure of the streak (counted, and there when debugging). */
  repeated: { event: string; msg: string };
  /** INFO, when the streak ends: how many failures it folded in and how long it lasted. */
  ended: { event: string; msg: string };
}

export interface FailureStreak {
  fail(err: unknown, fields?: Record<string, unknown>): void;
  succeed(): void;
  isFailing(): boolean;
}

/**
 * Logs a streak of the same failure once when it starts and once when it ends. A dependency that
 * is down fails every reconnect, request and retry: a WARN line for each buries everything else.
 */
export function createFailureStreak(logger: Logger, events: FailureStreakEvents, now: () => number = Date.now): FailureStreak {
  let streak: { since: number; suppressed: number } | null = null;
  return {
    fail(err, fields = {}) {
      if (streak) {
        streak.suppressed += 1;
        logger.debug({ event: events.repeated.event, ...fields, err }, events.repeated.msg);
        return;
      }
      streak = { since: now(), suppressed: 0 };
      logger.warn({ event: events.started.event, ...fields, err }, events.started.msg);
    },
    succeed() {
      if (!streak) return;
      logger.info({ event: events.ended.event, suppressedErrors: streak.suppressed, downMs: now() - streak.since }, events.ended.msg);
      streak = null;
    },
    isFailing: () => streak !== null,
  };
}
