/** What one lookup came to, and for how long it may be reused. */
export type Outcome = ({ answer: unknown[] } | { code: string }) & { ttlMs: number };

/**
 * Outcomes by key, each kept for its own TTL, at most `maxEntries` of them (the oldest go first).
 * While a key is being looked up, other callers wait for that lookup instead of starting their own.
 */
export function createOutcomeCache(maxEntries: number) {
  const entries = new Map<string, { outcome: Outcome; until: number }>();
  const inFlight = new Map<string, Promise<Outcome>>();

  const store = (key: string, outcome: Outcome): void => {
    entries.delete(key);
    // A Map iterates in insertion order: the first key is the oldest entry.
    if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
    entries.set(key, { outcome, until: performance.now() + outcome.ttlMs });
  };

  return {
    get(key: string, lookup: () => Promise<Outcome>): Promise<Outcome> {
      const hit = entries.get(key);
      if (hit && hit.until > performance.now()) return Promise.resolve(hit.outcome);
      if (hit) entries.delete(key);
      const pending = inFlight.get(key);
      if (pending) return pending;
      const started = lookup()
        .then((outcome) => {
          store(key, outcome);
          return outcome;
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, started);
      return started;
    },
  };
}
