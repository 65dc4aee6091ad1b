import type { Db } from '../../db/client.js';
import { findDeliveryByMessageId, insertBounce, lockDeliveryRecipients } from '../../db/bounces.js';
import { getDelivery, type DeliveryRow } from '../../db/deliveries.js';
import type { InboundRow } from '../../db/inbound.js';
import { addTicketEvent } from '../../db/tickets.js';
import type { BounceReport } from '../../parsers/bounce.js';
import { parseOwnMessageId, verifyToken } from '../../parsers/tokens.js';
import { recordFailures, type FailureContext, type RecipientFailure } from '../tickets/record-failures.js';
import { suppressContact } from '../../db/bounces.js';

export interface BounceOutcome {
  state: 'processed';
  reason: string;
  ticketId: number | null;
  bounceId: number;
}

type Match = { delivery: DeliveryRow; by: 'token' | 'message_id' } | { delivery: null; unmatched: string };

/**
 * Ties a report to the delivery it is about: by the signed token of the envelope recipient
 * (`bounces+<token>@`); without one, by the original Message-ID. A token that does not verify
 * matches nothing, so a forged bounce cannot mark a customer undeliverable.
 */
async function matchDelivery(tx: Db, secret: string, bounceTokens: string[], report: BounceReport | null): Promise<Match> {
  const token = bounceTokens[0];
  if (token !== undefined) {
    const id = verifyToken(secret, 'd', token);
    if (id === null) return { delivery: null, unmatched: 'invalid_token' };
    const delivery = await getDelivery(tx, Number(id));
    return delivery ? { delivery, by: 'token' } : { delivery: null, unmatched: 'unknown_delivery' };
  }
  const original = report?.originalMessageId;
  if (!original) return { delivery: null, unmatched: 'no_reference' };
  const own = parseOwnMessageId(secret, original);
  const delivery = own ? await getDelivery(tx, own.deliveryId) : await findDeliveryByMessageId(tx, original);
  return delivery ? { delivery, by: 'message_id' } : { delivery: null, unmatched: 'unknown_delivery' };
}

/** Records a bounce, delay or complaint that reached mailroom, matched or not. */
export async function handleBounce(
  tx: Db,
  ctx: FailureContext & { secret: string },
  row: InboundRow,
  report: BounceReport | null,
  bounceTokens: string[],
): Promise<BounceOutcome> {
  const match = await matchDelivery(tx, ctx.secret, bounceTokens, report);
  const base = {
    inboundId: row.id,
    kind: report ? (report.kind === 'complaint' ? 'complaint' : report.kind === 'delay' ? 'delay' : 'bounce') : 'unparsed',
    source: report?.source ?? null,
    originalMessageId: report?.originalMessageId ?? null,
    recipients: (report?.recipients ?? []) as unknown as Array<Record<string, unknown>>,
  } as const;
  if (!match.delivery || !report) {
    const unmatched = report ? ('unmatched' in match ? match.unmatched : 'unknown_delivery') : 'unparsed';
    const bounceId = await insertBounce(tx, { ...base, deliveryId: match.delivery?.id ?? null, matchedBy: null, unmatchedReason: unmatched });
    return { state: 'processed', reason: `bounce:unmatched:${unmatched}`, ticketId: null, bounceId };
  }
  const { delivery } = match;
  const bounceId = await insertBounce(tx, { ...base, deliveryId: delivery.id, ticketId: delivery.ticketId, matchedBy: match.by, unmatchedReason: null });

  if (report.kind === 'complaint') {
    for (const r of report.recipients) {
      if (!r.recipient) continue;
      await addTicketEvent(tx, delivery.ticketId, 'delivery.complaint', { text: `${r.recipient} reported our mail as abuse or spam`, deliveryId: delivery.id, recipient: r.recipient });
      if (await suppressContact(tx, r.recipient, 'complaint (feedback report)')) {
        await addTicketEvent(tx, delivery.ticketId, 'contact.suppressed', { address: r.recipient, reason: 'complaint (feedback report)' });
      }
    }
    return { state: 'processed', reason: `bounce:complaint`, ticketId: delivery.ticketId, bounceId };
  }

  const ours = await lockDeliveryRecipients(tx, delivery.id);
  const failures: RecipientFailure[] = [];
  for (const r of report.recipients) {
    const state = r.action === 'delayed' ? 'delayed' : r.action === 'failed' || r.action === null ? 'failed' : null;
    if (!state) continue; // delivered, relayed, expanded: nothing went wrong for this one
    // A forwarded address bounces under its final name: with one recipient it can only be that one.
    const target = ours.find((o) => o.address === r.recipient) ?? (ours.length === 1 ? ours[0] : undefined);
    if (!target) continue;
    failures.push({
      address: target.address,
      state,
      smtpCode: r.replyCode ? Number(r.replyCode) : null,
      enhancedStatus: r.status || null,
      diagnostic: r.diagnostic || null,
      reason: r.reason,
      hard: state === 'failed' && r.hard,
      remoteMta: r.remoteMta,
    });
  }
  await recordFailures(tx, ctx, delivery, failures, 'bounce');
  return { state: 'processed', reason: `bounce:${match.by}`, ticketId: delivery.ticketId, bounceId };
}
