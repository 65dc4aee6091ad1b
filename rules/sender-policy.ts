/** What sender authentication found, as stored on the spool row and the article. */
export interface SenderAuth {
  /** `by`: the authserv-id of the trusted relay whose Authentication-Results gave it; absent when checked here. */
  spf: { result: string; domain: string | null; by?: string };
  dkim: Array<{ domain: string | null; result: string; aligned: boolean }>;
  dmarc: { result: string; policy: string | null; domain: string | null };
  arc: string | null;
  /** The domain of From. */
  fromDomain: string | null;
  /** SPF or DKIM passed for a domain aligned with From (relaxed: the same organisational domain). */
  alignedPass: boolean;
}

export type SenderVerdict = { verified: true } | { verified: false; reason: 'dmarc_fail' | 'not_aligned' | 'temperror' | 'no_from' };

/**
 * Whether From can be believed: DMARC passes; or, for a domain that publishes no DMARC, SPF or
 * DKIM passes aligned with it. A DMARC failure is never excused, whatever else passed.
 */
export function senderVerdict(auth: SenderAuth): SenderVerdict {
  if (!auth.fromDomain) return { verified: false, reason: 'no_from' };
  if (auth.dmarc.result === 'pass') return { verified: true };
  if (auth.dmarc.result === 'fail') return { verified: false, reason: 'dmarc_fail' };
  if (auth.alignedPass) return { verified: true };
  const transient = auth.dmarc.result === 'temperror' || auth.spf.result === 'temperror' || auth.dkim.some((d) => d.result === 'temperror');
  return { verified: false, reason: transient ? 'temperror' : 'not_aligned' };
}

export type SuspensionReason = 'dmarc_reject' | `spam:${string}`;

/**
 * Whether a message is kept aside instead of filed: its From fails DMARC under the domain's
 * `p=reject` (its owner asked for exactly such mail to be refused), or the trusted relay's spam
 * filter said spam. Each as the rules' `security` section says; null to file it.
 */
export function suspensionReason(
  security: { dmarc_reject: 'suspend' | 'restrict'; upstream_spam: 'suspend' | 'ignore' },
  auth: SenderAuth | null,
  upstreamSpam: string | null,
): SuspensionReason | null {
  if (upstreamSpam && security.upstream_spam === 'suspend') return `spam:${upstreamSpam}`;
  if (auth && security.dmarc_reject === 'suspend' && auth.dmarc.result === 'fail' && auth.dmarc.policy === 'reject') return 'dmarc_reject';
  return null;
}
