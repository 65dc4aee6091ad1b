/** How long undelivered mail is kept trying, and how far apart the tries are (as Postfix does). */
export interface QueueLifetime {
  maxAgeMs: number;
  retryMinMs: number;
  retryMaxMs: number;
}

/**
 * When a delivery deferred on its `attempt`-th try is tried again: `retryMinMs` doubling each
 * time up to `retryMaxMs`, ±10 % so deliveries deferred together do not come back together; never
 * after the end of its lifetime, so the last try happens when the lifetime runs out.
 */
export function nextAttemptAt(createdAt: Date, attempt: number, now: Date, lifetime: QueueLifetime, random = Math.random): Date {
  const base = Math.min(lifetime.retryMaxMs, lifetime.retryMinMs * 2 ** Math.max(0, Math.min(30, attempt - 1)));
  const delay = base * (0.9 + 0.2 * random());
  return new Date(Math.min(now.getTime() + delay, createdAt.getTime() + lifetime.maxAgeMs));
}

/** Whether a delivery has been in the queue for its whole lifetime: what is still undelivered expires. */
export function lifetimeOver(createdAt: Date, now: Date, lifetime: QueueLifetime): boolean {
  return now.getTime() - createdAt.getTime() >= lifetime.maxAgeMs;
}

/** "2 days", "3 hours", "90 seconds": a lifetime as an agent reads it in an event. */
export function describeSpan(ms: number): string {
  const units: Array<[number, string]> = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [size, name] of units) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${name}${ms / size === 1 ? '' : 's'}`;
  }
  const [size, name] = units.find(([size]) => ms >= size) ?? [1, 'millisecond'];
  const amount = Math.round(ms / size);
  return `${amount} ${name}${amount === 1 ? '' : 's'}`;
}
