import type { Db } from '../../db/client.js';
import { removeSuppression, suppressionOf } from '../../db/bounces.js';
import { getDelivery, listTicketDeliveries } from '../../db/deliveries.js';
import { addParticipants, addTicketEvent, findTicketById, lockTicket, upsertContact } from '../../db/tickets.js';
import { addressProblem, normalizeAddress } from '../../parsers/addresses.js';
import { findMailbox, isOwnAddress } from '../../rules/mailboxes.js';
import type { RuleSet } from '../../rules/schema.js';
import { AppError } from '../errors.js';
import { createDelivery } from './create-delivery.js';

export interface ResendRequest {
  /** The corrected address; absent: the recipients that failed or expired. */
  to?: string;
  /** Lift the address's suppression first; without it a suppressed address is refused. */
  unsuppress?: boolean;
  /** Who asked (an agent, `api`, the CLI's user) and why: kept in the ticket's events. */
  by: string;
  reason?: string;
}

export interface ResendResult {
  deliveryId: number;
  ticketNumber: number;
  to: string[];
  unsuppressed: string[];
}

/**
 * Sends a delivery's content again as a new delivery on the same ticket: new Message-ID and
 * bounce tokens, the same threading headers, to the corrected address or to the recipients it
 * failed for. Refuses (RESEND_REFUSED, with the reason) what would not or should not go out.
 */
export async function resendDelivery(tx: Db, ctx: { ruleSet: RuleSet; secret: string }, deliveryId: number, request: ResendRequest): Promise<ResendResult> {
  const original = await getDelivery(tx, deliveryId);
  if (!original) throw new AppError('NOT_FOUND', `no delivery ${deliveryId}`);
  if (original.state === 'queued' || original.state === 'deferred') {
    throw new AppError('RESEND_REFUSED', `delivery ${deliveryId} is still ${original.state}: it is being sent (outbound retry sends a deferred one now)`);
  }
  const ticket = await lockTicket(tx, original.ticketId);
  if (!ticket) throw new AppError('NOT_FOUND', `the ticket of delivery ${deliveryId} is gone`);
  const mailbox = findMailbox(ctx.ruleSet, original.mailbox);
  if (!mailbox) throw new AppError('RESEND_REFUSED', `${original.mailbox} is no longer a mailbox in the rules`);
  const [withRecipients] = (await listTicketDeliveries(tx, ticket.id)).filter((d) => d.id === deliveryId);
  const undelivered = withRecipients!.recipients.filter((r) => r.state === 'failed' || r.state === 'expired').map((r) => r.address);
  const to = request.to !== undefined ? [normalizeAddress(request.to)] : undelivered;
  if (to.length === 0) throw new AppError('RESEND_REFUSED', `delivery ${deliveryId} reached every recipient; give --to to send it to another address`);
  for (const address of to) {
    const problem = addressProblem(address);
    if (problem) throw new AppError('RESEND_REFUSED', `${address}: ${problem}`);
    if (isOwnAddress(ctx.ruleSet, address)) throw new AppError('RESEND_REFUSED', `${address} is one of mailroom's own addresses`);
  }
  const unsuppressed: string[] = [];
  for (const address of to) {
    const suppression = await suppressionOf(tx, address);
    if (!suppression.suppressed) continue;
    if (!request.unsuppress) throw new AppError('RESEND_REFUSED', `${address} is suppressed (${suppression.reason ?? 'no reason recorded'}); resend with --unsuppress to lift it`);
    await removeSuppression(tx, address);
    unsuppressed.push(address);
    await addTicketEvent(tx, ticket.id, 'contact.unsuppressed', { address, by: request.by, reason: request.reason ?? null, was: suppression.reason });
  }
  if (request.to !== undefined) {
    // The corrected address takes part from now on: later mail on the ticket reaches it too.
    await addParticipants(tx, ticket.id, [{ contactId: await upsertContact(tx, to[0]!, ''), role: 'to' }]);
  }
  const resent = await createDelivery(tx, ctx.secret, {
    ticket,
    mailbox,
    kind: original.kind,
    to,
    subject: original.subject,
    body: original.textBody,
    inReplyTo: original.inReplyTo,
    references: original.references,
  });
  await addTicketEvent(tx, ticket.id, 'delivery.resent', { of: deliveryId, deliveryId: resent, to, by: request.by, reason: request.reason ?? null, unsuppressed });
  return { deliveryId: resent, ticketNumber: (await findTicketById(tx, ticket.id))!.number, to, unsuppressed };
}
