import type { Db } from '../../db/client.js';
import { claimDelivery, recordRecipientResults, settleDelivery, type RecipientResult } from '../../db/deliveries.js';
import { classifyBounceReason, isHardBounce } from '../../parsers/bounce-reason.js';
import { recordFailures } from '../tickets/record-failures.js';
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
  maxAttempts: number;
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
 * The send job of one delivery. Recipients the relay refuses with 5xx are recorded as failed at
 * once; 4xx refusals and connection failures are retried with backoff until the attempts run out.
 */
export function createDeliverySender(deps: SenderDeps): (deliveryId: number) => Promise<void> {
  return async (deliveryId) => {
    const claimed = await claimDelivery(deps.db, deliveryId);
    if (!claimed || claimed.recipients.length === 0) return;
    const { delivery, recipients } = claimed;
    const log = deps.logger.child({ deliveryId, ticketId: delivery.ticketId, messageId: delivery.messageId });
    const to = recipients.map((r) => r.address);
    const cc = recipients.filter((r) => r.role === 'cc').map((r) => r.address);
    const automatic = (AUTOMATIC_KINDS as readonly string[]).includes(delivery.kind);
    const lastAttempt = delivery.attempts >= deps.maxAttempts;
    const message = {
      from: { name: delivery.fromName, address: delivery.mailbox },
      to: to.filter((address) => !cc.includes(address)),
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
    const results: RecipientResult[] = [];
    for (const [index, recipient] of to.entries()) {
      const envelope = { from: bounceAddress(deps.secret, delivery.id, recipient, delivery.mailbox), to: [recipient] };
      results.push(...(await sendCopy(deps.transport, { ...message, envelope }, `${delivery.id}-${delivery.kind}-${index + 1}`, lastAttempt)));
    }
    const failed = results.filter((r) => r.state === 'failed');
    const deferred = results.filter((r) => r.state === 'deferred');
    deps.metrics.outbound.labels('sent').inc(results.length - failed.length - deferred.length);
    deps.metrics.outbound.labels('failed').inc(failed.length);
    deps.metrics.outbound.labels('deferred').inc(deferred.length);
    const state = await deps.db.transaction(async (tx) => {
      await recordRecipientResults(tx, delivery.id, results.filter((r) => r.state !== 'failed'));
      // Refused at send time: on the ticket exactly as a bounce would be (tag, event, suppression).
      await recordFailures(
        tx,
        { softBounceLimit: deps.softBounceLimit, metrics: deps.metrics },
        delivery,
        failed.map((f) => ({
          address: f.address,
          state: 'failed',
          smtpCode: f.smtpCode ?? null,
          enhancedStatus: f.enhancedStatus ?? null,
          diagnostic: f.diagnostic ?? null,
          reason: f.reason ?? null,
          hard: f.hard ?? false,
          remoteMta: null,
        })),
        'relay',
      );
      return settleDelivery(tx, delivery.id, deferred[0]?.diagnostic ?? null);
    });
    log.info(
      { event: 'delivery.attempted', kind: delivery.kind, attempt: delivery.attempts, state, sent: results.length - failed.length - deferred.length, failed: failed.length, deferred: deferred.length, transport: deps.transport.kind },
      'delivery attempted',
    );
    if (deferred.length > 0) throw new Error(`delivery ${delivery.id}: ${deferred.length} recipient(s) deferred: ${deferred[0]!.diagnostic}`);
  };
}

/** Sends one recipient's copy and reads the relay's answer as a result per recipient. */
async function sendCopy(
  transport: OutboundTransport,
  mail: Parameters<OutboundTransport['send']>[0],
  fileStem: string,
  lastAttempt: boolean,
): Promise<RecipientResult[]> {
  try {
    const outcome = await transport.send(mail, fileStem);
    return [
      ...outcome.accepted.map((a): RecipientResult => ({ address: a.address, state: 'sent', smtpCode: Number(a.response.slice(0, 3)) || null, diagnostic: a.response })),
      ...outcome.rejected.map((r): RecipientResult => {
        const permanent = r.code === null || r.code >= 500;
        const status = enhancedStatus(r.response) ?? '';
        const replyCode = r.code === null ? '' : String(r.code);
        // The same reading a bounce would get, so relay refusals and bounces report alike.
        const reason = permanent
          ? classifyBounceReason({ status, replyCode, diagnostic: r.response, command: 'RCPT', action: 'failed' })
          : lastAttempt
            ? 'expired'
            : null;
        return {
          address: r.address,
          state: permanent || lastAttempt ? 'failed' : 'deferred',
          smtpCode: r.code,
          enhancedStatus: status || null,
          diagnostic: r.response,
          // Hard means "this address will never work" (suppressed); a policy 5xx is permanent but not hard.
          hard: permanent && reason !== null ? isHardBounce(reason, status, replyCode) : false,
          reason,
        };
      }),
    ];
  } catch (err) {
    // The relay could not be reached or answered 4xx for the whole message: try again later.
    const text = err instanceof Error ? err.message : String(err);
    const code = (err as { responseCode?: number }).responseCode ?? null;
    return mail.envelope.to.map((address) => ({
      address,
      state: lastAttempt ? 'failed' : 'deferred',
      smtpCode: code,
      enhancedStatus: enhancedStatus((err as { response?: string }).response ?? ''),
      diagnostic: text,
      hard: false,
      reason: lastAttempt ? 'expired' : null,
    }));
  }
}
