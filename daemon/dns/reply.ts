import type { Answer, DecodedPacket, RecordType, SoaAnswer } from 'dns-packet';
import type { Outcome } from './cache.js';

/** Answers are kept for their records' TTL, within these bounds: not asked per message, not kept stale for long. */
const MIN_POSITIVE_TTL_MS = 5_000;
const MAX_POSITIVE_TTL_MS = 3_600_000;
/** "No such record" is kept as the zone's SOA says (RFC 2308), up to this; a customer fixing their SPF should not wait long. */
const MAX_NEGATIVE_TTL_MS = 900_000;
const MIN_NEGATIVE_TTL_MS = 1_000;
const NEGATIVE_TTL_WITHOUT_SOA_MS = 60_000;
/** A server that failed is not asked again for a while: every message would wait on it. */
export const FAILURE_TTL_MS = 15_000;

/** Records of each type the resolver serves, shaped as node:dns `resolve` gives them. */
export const SHAPES: Partial<Record<RecordType, (data: unknown) => unknown>> = {
  // Each chunk byte for byte, as node:dns does.
  TXT: (data) => (data as Buffer[]).map((chunk) => chunk.toString('latin1')),
  MX: (data) => {
    const mx = data as { preference: number; exchange: string };
    return { exchange: mx.exchange, priority: mx.preference };
  },
  A: (data) => data,
  AAAA: (data) => data,
  PTR: (data) => data,
  CNAME: (data) => data,
  NS: (data) => data,
};

/** node:dns error codes for the rcodes that mean this server could not answer; another may. */
const SERVER_FAILURES: Record<number, string> = { 1: 'EFORMERR', 2: 'ESERVFAIL', 4: 'ENOTIMP', 5: 'EREFUSED' };

/** What a reply means for the question: records, "none" (cached by the SOA), or the server's failure. */
export function readReply(reply: DecodedPacket, type: RecordType): Outcome & { serverFailed?: true } {
  const rcode = (reply.flags ?? 0) & 0xf;
  if (rcode !== 0 && rcode !== 3) return { code: SERVER_FAILURES[rcode] ?? 'EBADRESP', ttlMs: FAILURE_TTL_MS, serverFailed: true };
  const records = (reply.answers ?? []).filter((record) => record.type === type);
  if (rcode === 3 || records.length === 0) return { code: rcode === 3 ? 'ENOTFOUND' : 'ENODATA', ttlMs: negativeTtlMs(reply.authorities ?? []) };
  // A CNAME on the way to the records expires as well: the smallest TTL of the whole answer counts.
  const ttlMs = Math.min(...(reply.answers ?? []).map((record) => ttlOf(record) * 1000));
  return { answer: records.map((record) => SHAPES[type]!((record as { data: unknown }).data)), ttlMs: clamp(ttlMs, MIN_POSITIVE_TTL_MS, MAX_POSITIVE_TTL_MS) };
}

function negativeTtlMs(authorities: Answer[]): number {
  const soa = authorities.find((record): record is SoaAnswer => record.type === 'SOA');
  if (!soa) return NEGATIVE_TTL_WITHOUT_SOA_MS;
  return clamp(Math.min(ttlOf(soa), soa.data.minimum ?? 0) * 1000, MIN_NEGATIVE_TTL_MS, MAX_NEGATIVE_TTL_MS);
}

const ttlOf = (record: Answer): number => ('ttl' in record && typeof record.ttl === 'number' ? record.ttl : 0);
const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));
