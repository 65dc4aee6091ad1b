import type { Db } from '../../db/client.js';
import { findBounceOfInbound, findDeliveryByMessageId, insertBounce, lockDeliveryRecipients, type BounceRow } from '../../db/bounces.js';
import { getDelivery, type DeliveryRow, type RecipientRow } from '../../db/deliveries.js';
import type { InboundRow } from '../../db/inbound.js';
import { addTicketEvent } from '../../db/tickets.js';
import type { BounceReport } from '../../parsers/bounce.js';
import { parseOwnMessageId, recipientTokenDelivery, verifyRecipientToken } from '../../parsers/tokens.js';
import { recordFailures, type FailureContext, type RecipientFailure } from '../tickets/record-failures.js';
import { suppressContact } from '../../db/bounces.js';

export interface BounceOutcome {
  state: 'processed';
  reason: string;
  ticketId: number | null;
  bounceId: number;
}

type Match =
  | { delivery: DeliveryRow; by: 'token' | 'message_id'; /** the recipients this report may change */ about: RecipientRow[] }
  | { delivery: null; unmatched: string };

/**
 * Ties a report to the delivery and the recipient(s) it may speak for. Returned to a bounce
 * address, the token names one recipient of one delivery (VERP per recipient), and the report can
 * change that recipient only, whatever addresses it lists. Without a token (a report sent to a
 * mailbox) it is matched by the original Message-ID only when its envelope sender is null, as
 * every real DSN's is, and then only for the recipients of that delivery it names. A token that
 * does not verify matches nothing, so a forged report cannot mark anyone undeliverable.
 */
async function matchDelivery(tx: Db, secret: string, bounceTokens: string[], report: BounceReport | null, envelopeSender: string): Promise<Match> {
  const token = bounceTokens[0];
  if (token !== undefined) {
    const id = recipientTokenDelivery(token);
    const delivery = id === null ? null : await getDelivery(tx, id);
    if (!delivery) return { delivery: null, unmatched: id === null ? 'invalid_token' : 'unknown_delivery' };
    const named = (await lockDeliveryRecipients(tx, delivery.id)).filter((r) => verifyRecipientToken(secret, token, delivery.id, r.address));
    return named.length > 0 ? { delivery, by: 'token', about: named } : { delivery: null, unmatched: 'invalid_token' };
  }
  const original = report?.originalMessageId;
  if (!original) return { delivery: null, unmatched: 'no_reference' };
  if (envelopeSender !== '') return { delivery: null, unmatched: 'not_from_null_sender' };
  const own = parseOwnMessageId(secret, original);
  const delivery = own ? await getDelivery(tx, own.deliveryId) : await findDeliveryByMessageId(tx, original);
  if (!delivery) return { delivery: null, unmatched: 'unknown_delivery' };
  const listed = new Set(report.recipients.map((r) => r.recipient?.toLowerCase()).filter(Boolean));
  const about = (await lockDeliveryRecipients(tx, delivery.id)).filter((r) => listed.has(r.address));
  return about.length > 0 ? { delivery, by: 'message_id', about } : { delivery: null, unmatched: 'names_no_recipient' };
}

/** Records a bounce, delay or complaint that reached mailroom, matched or not. */
export async function handleBounce(
  tx: Db,
  ctx: FailureContext & { secret: string },
  row: InboundRow,
  report: BounceReport | null,
  bounceTokens: string[],
): Promise<BounceOutcome> {
  const match = await matchDelivery(tx, ctx.secret, bounceTokens, report, row.mailFrom);
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
    if (bounceId === 0) return recordedOutcome(tx, row.id);
    return { state: 'processed', reason: `bounce:unmatched:${unmatched}`, ticketId: null, bounceId };
  }
  const { delivery } = match;
  const bounceId = await insertBounce(tx, { ...base, deliveryId: delivery.id, ticketId: delivery.ticketId, matchedBy: match.by, unmatchedReason: null });
  // A replay of a report already recorded: its failures, events and soft-bounce counts are there
  // already, and recording them again would count one bounce twice and move the failure's time.
  if (bounceId === 0) return recordedOutcome(tx, row.id);

  const { about } = match;
  if (report.kind === 'complaint') {
    // Whatever addresses a complaint lists, it speaks only for the recipient(s) matched above.
    for (const r of about) {
      await addTicketEvent(tx, delivery.ticketId, 'delivery.complaint', { text: `${r.address} reported our mail as abuse or spam`, deliveryId: delivery.id, recipient: r.address });
      if (await suppressContact(tx, r.address, 'complaint (feedback report)')) {
        await addTicketEvent(tx, delivery.ticketId, 'contact.suppressed', { address: r.address, reason: 'complaint (feedback report)' });
      }
    }
    return { state: 'processed', reason: `bounce:complaint`, ticketId: delivery.ticketId, bounceId };
  }

  const failures: RecipientFailure[] = [];
  for (const target of about) {
    // A forwarded address bounces under its final name: the one entry of a report is about the
    // recipient its token names even when it lists another address.
    const r = report.recipients.find((entry) => entry.recipient?.toLowerCase() === target.address) ?? (match.by === 'token' && report.recipients.length === 1 ? report.recipients[0] : undefined);
    if (!r) continue;
    // An expiry reads `delayed` in the bounce vocabulary, but its MTA gave up: the mail will not arrive.
    const state = r.gaveUp ? 'failed' : r.action === 'delayed' ? 'delayed' : null;
    if (!state) continue; // delivered, relayed, expanded: nothing went wrong for this one
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
  // Only a recipient token proves who the report is about; a null sender is easy to claim.
  await recordFailures(tx, ctx, delivery, failures, 'bounce', match.by === 'token');
  return { state: 'processed', reason: `bounce:${match.by}`, ticketId: delivery.ticketId, bounceId };
}

/** The outcome of the report this spool row recorded the first time, as that processing ended. */
async function recordedOutcome(tx: Db, inboundId: number): Promise<BounceOutcome> {
  const recorded = await findBounceOfInbound(tx, inboundId);
  if (!recorded) throw new Error(`spool row ${inboundId}: its bounce row conflicted but cannot be read`);
  return { state: 'processed', reason: reasonOf(recorded), ticketId: recorded.ticketId, bounceId: recorded.id };
}

function reasonOf(bounce: BounceRow): string {
  if (bounce.matchedBy === null) return `bounce:unmatched:${bounce.unmatchedReason ?? 'unknown_delivery'}`;
  return bounce.kind === 'complaint' ? 'bounce:complaint' : `bounce:${bounce.matchedBy}`;
}
