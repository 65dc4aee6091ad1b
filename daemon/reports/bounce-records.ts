import type { BounceRow } from '../../db/bounces.js';

/*
 * The JSON shapes of bounces and suppressions, shared by the CLI's `--json` and the API. Apart from
 * the spool's shapes: every `tickets` command loads the bounce commands, and these need no parser.
 */

/** A bounce as `bounces --json` gives it. */
export function bounceRecord(r: BounceRow) {
  return {
    id: r.id,
    inboundId: r.inboundId,
    at: r.createdAt.toISOString(),
    kind: r.kind,
    matchedBy: r.matchedBy,
    unmatchedReason: r.unmatchedReason,
    deliveryId: r.deliveryId,
    ticketId: r.ticketId,
    source: r.source,
    originalMessageId: r.originalMessageId,
    recipients: r.recipients,
  };
}

/** A suppressed address as `suppressions list --json` gives it. */
export function suppressionRecord(r: { address: string; suppressedAt: Date | null; reason: string | null; softBounces: number }) {
  return { address: r.address, suppressedAt: r.suppressedAt?.toISOString() ?? null, reason: r.reason, softBounces: r.softBounces };
}
