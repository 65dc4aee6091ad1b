import type { Db } from '../../db/client.js';
import { countSoftBounce, setParticipantDeliveryState, suppressContact } from '../../db/bounces.js';
import { recordDeliveryResults, type DeliveryRow, type RecipientResult } from '../../db/deliveries.js';
import type { DeliveryState } from '../../db/schema.js';
import { addTicketEvent, lockTicket } from '../../db/tickets.js';
import type { FilingCounters } from '../metrics.js';
import { updateTags } from './ticket-status.js';

/** The tag views and searches use to find tickets whose mail could not be delivered. */
export const FAILURE_TAG = 'system_email_notification_failure';

export interface RecipientFailure {
  address: string;
  state: 'failed' | 'delayed';
  smtpCode: number | null;
  enhancedStatus: string | null;
  diagnostic: string | null;
  reason: string | null;
  hard: boolean;
  remoteMta: string | null;
}

const REASON_WORDS: Record<string, string> = {
  userunknown: 'user unknown',
  mailboxfull: 'mailbox full',
  hostunknown: 'host unknown',
  expired: 'delivery expired',
  blocked: 'blocked',
  spamdetected: 'rejected as spam',
  filtered: 'filtered',
  rejected: 'rejected',
  suspend: 'mailbox suspended',
  hasmoved: 'address has moved',
  mesgtoobig: 'message too big',
  policyviolation: 'policy violation',
  norelaying: 'relaying denied',
  networkerror: 'network error',
  systemerror: 'remote system error',
  toomanyconn: 'too many connections',
  notaccept: 'domain does not accept mail',
};

/** "ana@x (550 5.1.1 user unknown)": what an agent reads in the event log. */
export function describeFailure(failure: RecipientFailure): string {
  const words = (failure.reason && REASON_WORDS[failure.reason]) ?? failure.reason ?? (failure.diagnostic ? failure.diagnostic.slice(0, 80) : null);
  const parts = [failure.smtpCode, failure.enhancedStatus, words].filter((p) => p !== null && p !== '' && p !== undefined);
  return parts.length > 0 ? `${failure.address} (${parts.join(' ')})` : failure.address;
}

export interface FailureContext {
  softBounceLimit: number;
  metrics?: Pick<FilingCounters, 'bounces'>;
}

/**
 * Records what a relay or a bounce said about recipients of one delivery: the recipient rows,
 * the delivery's state, and on the ticket what tellTicketOfFailures tells it.
 */
export async function recordFailures(
  tx: Db,
  ctx: FailureContext,
  delivery: DeliveryRow,
  failures: RecipientFailure[],
  source: 'relay' | 'bounce',
  /** False for a report nothing proves the sender of: it is recorded, but silences no one. */
  maySuppress = true,
): Promise<void> {
  if (failures.length === 0) return;
  if (source === 'bounce') for (const f of failures) ctx.metrics?.bounces.labels(f.reason ?? 'undefined').inc();
  const state = await recordDeliveryResults(tx, delivery.id, failures, { lastError: null });
  await tellTicketOfFailures(tx, ctx, delivery, failures, state, source, maySuppress);
}

/**
 * What failed recipients mean for the ticket, once their rows are recorded and the delivery is in
 * `state`: the failure tag, the participant's delivery state and an event an agent can read. Hard
 * bounces (and repeated soft ones) suppress the address for automatic mail. Delays are recorded
 * as delayed, with no tag.
 */
export async function tellTicketOfFailures(
  tx: Db,
  ctx: FailureContext,
  delivery: DeliveryRow,
  failures: RecipientFailure[],
  state: DeliveryState,
  source: 'relay' | 'bounce',
  maySuppress = true,
): Promise<void> {
  if (failures.length === 0) return;
  const ticket = await lockTicket(tx, delivery.ticketId);
  if (!ticket) return;
  for (const failure of failures) await setParticipantDeliveryState(tx, ticket.id, failure.address, failure.state);

  const failed = failures.filter((f) => f.state === 'failed');
  const delayed = failures.filter((f) => f.state === 'delayed');
  if (failed.length > 0) {
    await updateTags(tx, ticket, [FAILURE_TAG], []);
    const list = failed.map(describeFailure);
    const text =
      failed.length === 1 && state === 'failed' && list.length === 1
        ? `could not deliver to ${list[0]}`
        : state === 'failed'
          ? `could not deliver to all recipients (${list.join('; ')})`
          : `could not deliver to some recipients (${list.join('; ')})`;
    await addTicketEvent(tx, ticket.id, 'delivery.failed', { text, source, deliveryId: delivery.id, kind: delivery.kind, recipients: failed });
  }
  if (delayed.length > 0) {
    await addTicketEvent(tx, ticket.id, 'delivery.delayed', {
      text: `delivery delayed to ${delayed.map(describeFailure).join('; ')}`,
      source,
      deliveryId: delivery.id,
      kind: delivery.kind,
      recipients: delayed,
    });
  }
  for (const failure of maySuppress ? failed : []) {
    const why = `${failure.hard ? 'hard' : 'soft'} bounce: ${[failure.smtpCode, failure.enhancedStatus, failure.reason].filter(Boolean).join(' ')}`;
    if (failure.hard) {
      if (await suppressContact(tx, failure.address, why)) {
        await addTicketEvent(tx, ticket.id, 'contact.suppressed', { address: failure.address, reason: why });
      }
    } else if ((await countSoftBounce(tx, failure.address)) >= ctx.softBounceLimit) {
      const reason = `${ctx.softBounceLimit} soft bounces, last: ${why}`;
      if (await suppressContact(tx, failure.address, reason)) {
        await addTicketEvent(tx, ticket.id, 'contact.suppressed', { address: failure.address, reason });
      }
    }
  }
}

/**
 * Recipients still undelivered when their delivery's queue lifetime ran out: the relay never took
 * them. The ticket is told (tag, event) so an agent can resend; the address is not blamed (no
 * participant delivery state, no soft bounce, no suppression).
 */
export async function recordExpired(tx: Db, delivery: DeliveryRow, expired: RecipientResult[], lifetime: string): Promise<void> {
  if (expired.length === 0) return;
  const ticket = await lockTicket(tx, delivery.ticketId);
  if (!ticket) return;
  await updateTags(tx, ticket, [FAILURE_TAG], []);
  const last = expired[0]!;
  await addTicketEvent(tx, ticket.id, 'delivery.expired', {
    text: `gave up after ${lifetime} in the queue: the relay did not take the mail to ${expired.map((r) => r.address).join(', ')} (last: ${[last.smtpCode, last.diagnostic].filter(Boolean).join(' ') || last.reason})`,
    deliveryId: delivery.id,
    kind: delivery.kind,
    reason: last.reason ?? null,
    recipients: expired.map((r) => ({ address: r.address, reason: r.reason ?? null, smtpCode: r.smtpCode ?? null, diagnostic: r.diagnostic ?? null })),
  });
}
