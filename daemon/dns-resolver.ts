import { Resolver } from 'node:dns/promises';

/** What mailauth asks of DNS: `resolve(name, type)` as node:dns has it. */
export type DnsResolve = (name: string, type: string) => Promise<unknown>;

/** Answers are kept this long; Node's resolver does not report record TTLs for every type. */
const POSITIVE_TTL_MS = 300_000;
/** "No such record" is kept for less: a customer fixing their SPF should not wait long. */
const NEGATIVE_TTL_MS = 60_000;
/** A server that does not answer is not asked again for a while: every message would wait on it. */
const FAILURE_TTL_MS = 15_000;
const MAX_ENTRIES = 10_000;

/**
 * DNS for sender authentication: the servers of MAILROOM_DNS_SERVERS (`host:port`, so tests run
 * their own) or the system's; each query bounded in time, answers and "no such record" cached. A
 * timeout or server failure is an error mailauth reports as `temperror`, never a stall.
 */
export function createDnsResolver(servers: string[], options: { timeoutMs?: number } = {}): DnsResolve {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 1500, tries: 1 });
  if (servers.length > 0) resolver.setServers(servers);
  const cache = new Map<string, { until: number; answer?: unknown; error?: Error }>();
  return async (name, type) => {
    const key = `${type} ${name.toLowerCase()}`;
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.until > now) {
      if (hit.error) throw hit.error;
      return hit.answer;
    }
    if (cache.size >= MAX_ENTRIES) cache.clear();
    try {
      const answer = await resolver.resolve(name, type as 'TXT');
      cache.set(key, { until: now + POSITIVE_TTL_MS, answer });
      return answer;
    } catch (err) {
      const code = (err as { code?: string }).code;
      const definite = code === 'ENOTFOUND' || code === 'ENODATA';
      cache.set(key, { until: now + (definite ? NEGATIVE_TTL_MS : FAILURE_TTL_MS), error: err as Error });
      throw err;
    }
  };
}
