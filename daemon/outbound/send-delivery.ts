import type { Db } from '../../db/client.js';
import { claimDelivery, recordDeliveryResults, type RecipientResult } from '../../db/deliveries.js';
import { classifyBounceReason, isHardBounce } from '../../parsers/bounce-reason.js';
import { recordExpired, tellTicketOfFailures, type RecipientFailure } from '../tickets/record-failures.js';
import { describeSpan, lifetimeOver, nextAttemptAt, type QueueLifetime } from './queue-lifetime.js';
import { AUTOMATIC_KINDS } from '../../db/schema.js';
import { splitAddress } from '../../parsers/addresses.js';
import { signRecipientToken } from '../../parsers/tokens.js';
import { BOUNCE_LOCAL_PART } from '../../rules/mailboxes.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { LOOP_HEADER } from '../../parsers/auto-generated.js';
import type { OutboundTransport } from './transport.js';

export interface SenderDeps {
  db: Db;
  metrics: Metrics;
  softBounceLimit: number;
  logger: Logger;
  transport: OutboundTransport;
  secret: string;
  hostname: string;
  lifetime: QueueLifetime;
}

/**
 * The envelope sender one recipient's copy is sent with (VERP): it names the delivery and that
 * recipient, signed, so a report coming back to it can only be about that recipient.
 */
export function bounceAddress(secret: string, deliveryId: number, recipient: string, mailbox: string): string {
  return `${BOUNCE_LOCAL_PART}+${signRecipientToken(secret, deliveryId, recipient)}@${splitAddress(mailbox)!.domain}`;
}

function enhancedStatus(response: string): string | null {
  return /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(response)?.[1] ?? null;
}

/**
 * The send job of one delivery, like an MTA's queue run. A recipient the relay refuses at RCPT
 * with 5xx is failed at once, as a bounce would fail it. Anything else that stops a copy (the
 * relay unreachable, TLS or login trouble, 4xx, a 5xx for the whole transaction) is the relay's
 * trouble, not the recipient's: the copy is deferred with backoff until the delivery's lifetime
 * runs out, then expired, and never counted against the address.
 */
export function createDeliverySender(deps: SenderDeps): (deliveryId: number) => Promise<void> {
  return async (deliveryId) => {
    const now = new Date();
    const claimed = await claimDelivery(deps.db, deliveryId, now);
    if (!claimed) return;
    const { delivery, recipients } = claimed;
    const open = recipients.filter((r) => r.state === 'pending' || r.state === 'deferred');
    if (open.length === 0) return;
    const log = deps.logger.child({ deliveryId, ticketId: delivery.ticketId, messageId: delivery.messageId });
    const cc = recipients.filter((r) => r.role === 'cc').map((r) => r.address);
    const automatic = (AUTOMATIC_KINDS as readonly string[]).includes(delivery.kind);
    const message = {
      from: { name: delivery.fromName, address: delivery.mailbox },
      to: recipients.filter((r) => r.role !== 'cc').map((r) => r.address),
      ...(cc.length ? { cc } : {}),
      replyTo: delivery.replyTo,
      subject: delivery.subject,
      text: delivery.textBody,
      messageId: `<${delivery.messageId}>`,
      ...(delivery.inReplyTo ? { inReplyTo: `<${delivery.inReplyTo}>` } : {}),
      ...(delivery.references.length ? { references: delivery.references.map((id) => `<${id}>`) } : {}),
      headers: {
        [LOOP_HEADER]: deps.hostname,
        // RFC 3834 §5 marks our automatic mail; Exchange honours X-Auto-Response-Suppress.
        ...(automatic ? { 'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All' } : {}),
      },
    };
    // One SMTP transaction per recipient, each with its own envelope sender: the same message,
    // but a bounce or complaint can then name only the recipient it came back for.
    const copies: CopyResult[] = [];
    for (const recipient of open) {
      const index = recipients.indexOf(recipient);
      const envelope = { from: bounceAddress(deps.secret, delivery.id, recipient.address, delivery.mailbox), to: [recipient.address] };
      copies.push(await sendCopy(deps.transport, { ...message, envelope }, `${delivery.id}-${delivery.kind}-${index + 1}`));
    }
    const expiredNow = lifetimeOver(delivery.createdAt, now, deps.lifetime);
    const sent = copies.filter((c) => c.state === 'sent');
    const refused = copies.filter((c) => c.state === 'failed');
    const stopped = copies.filter((c) => c.state === 'deferred');
    const expired = expiredNow ? stopped.map((c): CopyResult => ({ ...c, state: 'expired' })) : [];
    const deferred = expiredNow ? [] : stopped;
    const next = deferred.length > 0 ? nextAttemptAt(delivery.createdAt, delivery.attempts, now, deps.lifetime) : null;

    deps.metrics.outbound.labels(deps.transport.kind === 'outbox' ? 'written' : 'sent').inc(sent.length);
    deps.metrics.outbound.labels('failed').inc(refused.length);
    deps.metrics.outbound.labels('deferred').inc(deferred.length);
    deps.metrics.outbound.labels('expired').inc(expired.length);
    if (deps.transport.kind === 'relay') deps.metrics.relayUp.set(copies.some((c) => c.wholeTransaction) ? 0 : 1);

    const failures = refused.map(asFailure);
    const results = [...sent, ...deferred, ...expired, ...failures];
    const settle = { lastError: stopped[0]?.diagnostic ?? null, nextAttemptAt: next };
    // Sent or deferred: one statement. A failure or expiry also goes on the ticket, in the same transaction.
    const state =
      refused.length === 0 && expired.length === 0
        ? await recordDeliveryResults(deps.db, delivery.id, results, settle)
        : await deps.db.transaction(async (tx) => {
            const settled = await recordDeliveryResults(tx, delivery.id, results, settle);
            // Refused at send time: on the ticket exactly as a bounce would be (tag, event, suppression).
            await tellTicketOfFailures(tx, { softBounceLimit: deps.softBounceLimit, metrics: deps.metrics }, delivery, failures, settled, 'relay');
            await recordExpired(tx, delivery, expired, describeSpan(deps.lifetime.maxAgeMs));
            return settled;
          });
    const counts = { sent: sent.length, failed: refused.length, deferred: deferred.length, expired: expired.length };
    const fields = { event: 'delivery.attempted', kind: delivery.kind, attempt: delivery.attempts, state, ...counts, transport: deps.transport.kind };
    if (deferred.length > 0) {
      // Said loudly once per delivery; its later deferrals are routine until it expires.
      const level = delivery.attempts === 1 ? 'warn' : 'info';
      log[level]({ ...fields, event: 'delivery.deferred', reason: deferred[0]!.reason, diagnostic: deferred[0]!.diagnostic, nextAttemptAt: next!.toISOString() }, 'delivery deferred; will try again');
    } else if (expired.length > 0) {
      log.error({ ...fields, event: 'delivery.expired', reason: expired[0]!.reason, diagnostic: expired[0]!.diagnostic }, 'delivery expired: still undelivered at the end of its queue lifetime');
    } else {
      log.info(fields, 'delivery attempted');
    }
  };
}

/** One recipient's copy: sent, refused at RCPT (failed), or stopped by the relay (deferred). */
type CopyResult = RecipientResult & { state: 'sent' | 'failed' | 'deferred' | 'expired'; wholeTransaction: boolean };

function asFailure(copy: CopyResult): RecipientFailure {
  return {
    address: copy.address,
    state: 'failed',
    smtpCode: copy.smtpCode ?? null,
    enhancedStatus: copy.enhancedStatus ?? null,
    diagnostic: copy.diagnostic ?? null,
    reason: copy.reason ?? null,
    hard: copy.hard ?? false,
    remoteMta: null,
  };
}

/** Sends one recipient's copy and reads the relay's answer. */
async function sendCopy(transport: OutboundTransport, mail: Parameters<OutboundTransport['send']>[0], fileStem: string): Promise<CopyResult> {
  const address = mail.envelope.to[0]!;
  try {
    const outcome = await transport.send(mail, fileStem);
    const accepted = outcome.accepted.find((a) => a.address === address);
    if (accepted) return { address, state: 'sent', smtpCode: Number(accepted.response.slice(0, 3)) || null, diagnostic: accepted.response, wholeTransaction: false };
    const refusal = outcome.rejected[0] ?? { address, code: null, response: 'rejected' };
    const status = enhancedStatus(refusal.response) ?? '';
    if (refusal.code !== null && refusal.code < 500) {
      // A 4xx at RCPT from our own relay says the relay cannot take it now, nothing about the address.
      return { address, state: 'deferred', smtpCode: refusal.code, enhancedStatus: status || null, diagnostic: refusal.response, reason: 'relay_deferred', hard: false, wholeTransaction: false };
    }
    const replyCode = refusal.code === null ? '' : String(refusal.code);
    // The same reading a bounce would get, so relay refusals and bounces report alike.
    const reason = classifyBounceReason({ status, replyCode, diagnostic: refusal.response, command: 'RCPT', action: 'failed' });
    return {
      address,
      state: 'failed',
      smtpCode: refusal.code,
      enhancedStatus: status || null,
      diagnostic: refusal.response,
      // Hard means "this address will never work" (suppressed); a policy 5xx is permanent but not hard.
      hard: reason !== null ? isHardBounce(reason, status, replyCode) : false,
      reason,
      wholeTransaction: false,
    };
  } catch (err) {
    // Unreachable, TLS, login, or the relay refusing the whole transaction: the relay's trouble.
    const e = err as { responseCode?: number; response?: string; message?: string };
    const code = e.responseCode ?? null;
    return {
      address,
      state: 'deferred',
      smtpCode: code,
      enhancedStatus: enhancedStatus(e.response ?? ''),
      diagnostic: (e.response || e.message || String(err)).slice(0, 500),
      reason: code === null ? 'relay_unreachable' : code >= 500 ? 'relay_refused' : 'relay_deferred',
      hard: false,
      wholeTransaction: true,
    };
  }
}
