import { arc as checkArc, dkimVerify, dmarc as checkDmarc, spf as checkSpf, type ARCData, type DNSResolver } from 'mailauth';
import { isIP } from 'node:net';
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
  /**
   * SPF as the trusted relay in front found it (its Authentication-Results): it saw the real
   * client, so its word replaces an SPF check of our own. DKIM and DMARC are still ours.
   */
  trustedSpf?: { result: string; domain: string | null; authservId: string } | null;
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
  const resolver = resolve as DNSResolver;
  const signatures = await dkimVerify(raw, { resolver, sender: client.mailFrom });
  const ip = client.ip ? unmappedIp(client.ip) : null;
  const spf: SenderAuth['spf'] = client.trustedSpf
    ? { result: client.trustedSpf.result, domain: client.trustedSpf.domain, by: client.trustedSpf.authservId }
    : ip
      ? await spfOf(ip, client, resolver, hostname)
      : { result: 'none', domain: null };
  const arcResult = signatures.arc ? await checkArc(signatures.arc as unknown as ARCData, { resolver }) : null;
  const dmarcResult = signatures.headerFrom?.length
    ? await checkDmarc({
        headerFrom: signatures.headerFrom,
        spfDomains: spf.result === 'pass' && spf.domain ? [spf.domain] : [],
        dkimDomains: signatures.results
          .filter((r) => r.status.result === 'pass' && r.signingDomain)
          .map((r) => ({ id: (r as { id?: string }).id, domain: r.signingDomain!, aligned: Boolean(r.status.aligned), underSized: Boolean((r.status as { underSized?: unknown }).underSized) })),
        ...(arcResult ? { arcResult } : {}),
        resolver,
      })
    : false;
  const result = { dkim: signatures, dmarc: dmarcResult, arc: arcResult };
  const fromDomain = result.dkim.headerFrom?.[0]?.split('@').pop()?.toLowerCase() ?? null;
  const org = (domain: string | null | undefined) => (domain ? (getDomain(domain) ?? domain).toLowerCase() : null);
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

/** SPF of our own against the client, its EHLO name and MAIL FROM, as mailauth's authenticate does it. */
async function spfOf(ip: string, client: ClientFacts, resolver: DNSResolver, hostname: string): Promise<SenderAuth['spf']> {
  const helo = client.helo ? (isIP(client.helo) ? `[${client.helo}]` : client.helo) : `[${ip}]`;
  const result = await checkSpf({ ip, helo, sender: client.mailFrom, mta: hostname, resolver });
  return { result: String(result.status.result), domain: result.domain ?? null };
}
