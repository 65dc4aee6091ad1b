import { authenticate, type DNSResolver } from 'mailauth';
import { getDomain } from 'tldts';
import type { SenderAuth } from '../../rules/sender-policy.js';
import type { DnsResolve } from '../dns-resolver.js';
import { unmappedIp } from '../smtp/address-ranges.js';
import { withDeadline } from '../deadline.js';

/** However DNS behaves, authentication ends within this: past it every check is a temperror. */
const AUTH_DEADLINE_MS = 20_000;

export interface ClientFacts {
  /** The connecting client's address, and what it said in EHLO. */
  ip: string | null;
  helo: string | null;
  /** MAIL FROM, '' for the null sender. */
  mailFrom: string;
}

/**
 * SPF, DKIM, DMARC and ARC for one message (mailauth, by the smtp-server and nodemailer authors),
 * boiled down to what the rules decide on and agents read. Never throws: DNS trouble and the
 * deadline come back as temperror.
 */
export async function authenticateSender(raw: Buffer, client: ClientFacts, resolve: DnsResolve, hostname: string): Promise<SenderAuth> {
  const timedOut: SenderAuth = { spf: { result: 'temperror', domain: null }, dkim: [], dmarc: { result: 'temperror', policy: null, domain: null }, arc: null, fromDomain: null, alignedPass: false };
  try {
    return await withDeadline(check(raw, client, resolve, hostname), AUTH_DEADLINE_MS, () => timedOut);
  } catch {
    return timedOut;
  }
}

async function check(raw: Buffer, client: ClientFacts, resolve: DnsResolve, hostname: string): Promise<SenderAuth> {
  const result = await authenticate(raw, {
    ...(client.ip ? { ip: unmappedIp(client.ip) } : {}),
    ...(client.helo ? { helo: client.helo } : {}),
    sender: client.mailFrom,
    mta: hostname,
    resolver: resolve as DNSResolver,
    disableBimi: true,
  });
  const fromDomain = result.dkim.headerFrom?.[0]?.split('@').pop()?.toLowerCase() ?? null;
  const org = (domain: string | null | undefined) => (domain ? (getDomain(domain) ?? domain).toLowerCase() : null);
  const spf = result.spf ? { result: String(result.spf.status.result), domain: result.spf.domain ?? null } : { result: 'none', domain: null };
  // mailauth reports an unsigned message as one result "none" without a domain: that is no signature.
  const dkim = (result.dkim.results ?? []).filter((r) => r.signingDomain || r.status.result !== 'none').map((r) => ({
    domain: r.signingDomain ?? null,
    result: String(r.status.result),
    aligned: Boolean(r.status.aligned),
  }));
  const dmarc = result.dmarc
    ? { result: String(result.dmarc.status.result), policy: (result.dmarc as { policy?: string }).policy ?? null, domain: result.dmarc.domain ?? null }
    : { result: 'none', policy: null, domain: null };
  const spfAligned = spf.result === 'pass' && fromDomain !== null && org(spf.domain) === org(fromDomain);
  const dkimAligned = dkim.some((d) => d.result === 'pass' && d.aligned);
  return {
    spf,
    dkim,
    dmarc,
    arc: result.arc ? String(result.arc.status.result) : null,
    fromDomain,
    alignedPass: spfAligned || dkimAligned,
  };
}
