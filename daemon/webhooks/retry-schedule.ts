/** How far apart the tries of one webhook delivery are, and how long it is tried. */
export interface WebhookRetrySchedule {
  retryMinMs: number;
  retryMaxMs: number;
  maxAgeMs: number;
}

/**
 * After the `attempt`-th failed try: `retryMinMs` doubling up to `retryMaxMs`, ±10 % so rows
 * that failed together (a receiver down) do not all come back in the same second; never after
 * `expiresAt`, so the last try is made when the lifetime ends. Null: the lifetime is over.
 */
export function nextWebhookAttempt(attempt: number, now: Date, expiresAt: Date, schedule: WebhookRetrySchedule, random = Math.random): Date | null {
  if (now.getTime() >= expiresAt.getTime()) return null;
  const base = Math.min(schedule.retryMaxMs, schedule.retryMinMs * 2 ** Math.max(0, Math.min(30, attempt - 1)));
  return new Date(Math.min(now.getTime() + base * (0.9 + 0.2 * random()), expiresAt.getTime()));
}
