import dns from 'node:dns';
import type { RecordType } from 'dns-packet';
import { createOutcomeCache } from './dns/cache.js';
import { exchange, parseServer } from './dns/client.js';
import { FAILURE_TTL_MS, readReply, SHAPES } from './dns/reply.js';

/** What mailauth asks of DNS: `resolve(name, type)` as node:dns has it. */
export type DnsResolve = (name: string, type: string) => Promise<unknown>;

const MAX_ENTRIES = 10_000;
/** With many servers configured, a lookup still ends within this many timeouts. */
const MAX_SERVERS_TRIED = 3;

/**
 * DNS for sender authentication: the servers of MAILROOM_DNS_SERVERS (`host:port`, so tests run
 * their own) or the system's. Answers are cached for their records' TTL and "no such record" for
 * the zone's SOA, which node:dns cannot report. Each query is bounded in time; a timeout or server
 * failure is an error mailauth reports as `temperror`, never a stall.
 */
export function createDnsResolver(servers: string[], options: { timeoutMs?: number } = {}): DnsResolve {
  const timeoutMs = options.timeoutMs ?? 1500;
  // Like node:dns, the local host when the system names no server.
  const configured = servers.length > 0 ? servers : dns.getServers();
  const targets = (configured.length > 0 ? configured : ['127.0.0.1']).map(parseServer).slice(0, MAX_SERVERS_TRIED);
  const cache = createOutcomeCache(MAX_ENTRIES);

  const lookup = async (name: string, type: RecordType) => {
    let failure = 'ETIMEOUT';
    for (const server of targets) {
      try {
        const outcome = readReply(await exchange(server, name, type, timeoutMs), type);
        if (!outcome.serverFailed) return outcome;
        failure = 'code' in outcome ? outcome.code : failure;
      } catch (err) {
        failure = (err as { code?: string }).code ?? 'ECONNREFUSED';
      }
    }
    return { code: failure, ttlMs: FAILURE_TTL_MS };
  };

  return async (name, rrtype) => {
    const type = rrtype.toUpperCase() as RecordType;
    const syscall = `query${type.charAt(0)}${type.slice(1).toLowerCase()}`;
    if (!SHAPES[type]) throw Object.assign(new TypeError(`unsupported DNS record type ${rrtype}`), { code: 'ERR_INVALID_ARG_VALUE' });
    const question = name.replace(/\.$/, '');
    const outcome = await cache.get(`${type} ${question.toLowerCase()}`, () => lookup(question, type));
    if ('code' in outcome) throw Object.assign(new Error(`${syscall} ${outcome.code} ${name}`), { code: outcome.code, syscall, hostname: name });
    // A copy: mailauth sorts MX lists in place, and the cached one is shared.
    return structuredClone(outcome.answer);
  };
}
