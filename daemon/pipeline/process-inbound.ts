import type { Db } from '../../db/client.js';
import { claimInbound, finishInbound, loadInboundRaw, lockInboundForProcessing, type InboundRow } from '../../db/inbound.js';
import { withDeadline } from '../deadline.js';
import { createFilingBatches, type FilingBatches } from './filing-batches.js';
import { createTotalWindowEstimate, type TotalWindowEstimate } from '../tickets/total-window.js';
import { createPermits } from '../permits.js';
import { looksLikeBounce, parseBounce } from '../../parsers/bounce.js';
import { parseMessage, readAttachmentContents, type ParsedMessage } from '../../parsers/message.js';
import { canonicalDomain } from '../../parsers/addresses.js';
import { handleBounce } from './handle-bounce.js';
import type { RuleSet } from '../../rules/schema.js';
import type { Logger } from '../logger.js';
import { countedAtCommit, ignoredReasonLabel, type Metrics } from '../metrics.js';
import { classifyMessage } from './classify.js';
import { redactMessage } from './apply-rules.js';
import { fileIntoTicket } from './file-into-ticket.js';
import { touchTicket } from '../../db/tickets.js';
import { fileUnreadable } from './file-unreadable.js';
import { createConversationOrder } from './conversation-order.js';
import { suspensionReason, type SenderAuth } from '../../rules/sender-policy.js';
import { upstreamSpamVerdict } from '../../parsers/spam-verdict.js';

export interface ProcessorDeps {
  db: Db;
  logger: Logger;
  rules: () => RuleSet;
  secret: string;
  maxAttempts: number;
  softBounceLimit: number;
  metrics: Metrics;
  /** SPF, DKIM, DMARC and ARC of a customer's mail; absent, nothing is checked (and nothing restricted). */
  authenticateSender?: (raw: Buffer, row: InboundRow) => Promise<SenderAuth>;
  /** Whether the row came from a trusted relay, whose spam verdict headers are believed. */
  fromTrustedRelay?: (row: InboundRow) => boolean;
  /** Rows processed at once (the worker's concurrency); a quarter as many filing transactions run at once. */
  concurrency?: number;
  /** Hands a committed outbox row to the send queue; must not throw (the sweeper repairs). */
  onDeliveryQueued: (deliveryId: number) => void;
}

/**
 * A parser that never settles must not hold a worker slot forever (mailparser has stalled on
 * fuzzed input): past this the row is failed, its bytes kept for replay.
 */
const PARSE_DEADLINE_MS = 60_000;

/** Lets the SMTP sessions and other jobs run between slices of CPU-heavy work. */
const letOthersRun = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Messages above this size are processed one at a time and parsed without holding their
 * attachments' bytes: each holds its raw bytes in memory while it is parsed and its attachments
 * are streamed to storage, so ten 25 MB messages side by side would need ten times that; one at a
 * time keeps the daemon's memory bounded while small mail flows past.
 */
const LARGE_MESSAGE_BYTES = 1024 * 1024;

/**
 * The job handler for one spool row. Permanent problems (a message mailparser cannot read) are
 * recorded as `failed` with the raw bytes kept for replay; anything else throws so the queue
 * retries, until the row has used its attempts.
 */
export function createInboundProcessor(deps: ProcessorDeps): (inboundId: number) => Promise<void> {
  const largeGate = createPermits(1);
  const concurrency = Math.max(1, deps.concurrency ?? 1);
  const filing = createFilingBatches({
    db: deps.db,
    maxRows: FILING_BATCH_ROWS,
    // Few transactions, so that rows ready meanwhile share one: a batch's lanes share its round
    // trips, and one transaction per four rows filed the benchmark's mail with the least CPU.
    maxTransactions: Math.max(1, Math.ceil(concurrency / 4)),
    onBatchFailed: (rows, err) => deps.logger.warn({ event: 'filing.batch_failed', rows, err }, 'a batch of mails failed as a whole; filing them one by one'),
    deadlineMs: FILING_DEADLINE_MS,
    onOverdue: (rows) => deps.logger.warn({ event: 'filing.overdue', rows, deadlineMs: FILING_DEADLINE_MS }, 'a filing transaction did not end in time; its mails go back to the queue'),
    onLaneConflict: (rows, err) => deps.logger.info({ event: 'filing.lane_conflict', rows, reason: err.message }, 'two mails of a batch touch one ticket or recipient; filing them one by one'),
  });
  const processOne = createOneProcessor(deps, filing, createTotalWindowEstimate());
  const processRow = (row: InboundRow): Promise<void> => (row.sizeBytes > LARGE_MESSAGE_BYTES ? largeGate(() => processOne(row)) : processOne(row));
  const fileEarlierFirst = createConversationOrder(deps, processRow);
  return async (inboundId) => {
    const row = await claimInbound(deps.db, inboundId);
    if (!row) return; // finished already, or replayed and claimed by another worker
    await fileEarlierFirst(row);
    return processRow(row);
  };
}

/** Most spool rows filed in one transaction. */
const FILING_BATCH_ROWS = 32;

/** A batch of small mails files in well under a second; one still running after this is stuck. */
const FILING_DEADLINE_MS = 30_000;

function createOneProcessor(deps: ProcessorDeps, filing: FilingBatches, totalWindows: TotalWindowEstimate): (row: InboundRow) => Promise<void> {
  return async (row) => {
    const inboundId = row.id;
    const log = deps.logger.child({ inboundId, attempt: row.attempts });
    const started = process.hrtime.bigint();
    try {
      const raw = await loadInboundRaw(deps.db, row);
      // A large message is parsed without its attachments' bytes, which are streamed from the raw
      // message into storage when the article is stored: one copy of the message in memory, not three.
      const large = row.sizeBytes > LARGE_MESSAGE_BYTES;
      const parsed = await withDeadline(parseMessage(raw, { keepAttachmentContent: !large }), PARSE_DEADLINE_MS, () => ({
        ok: false as const,
        error: `PARSE_TIMEOUT: not parsed within ${PARSE_DEADLINE_MS / 1000} s`,
      }));
      if (!parsed.ok) {
        const error = parsed.error.startsWith('PARSE_TIMEOUT') ? parsed.error : `PARSE_FAILED: ${parsed.error}`;
        // The row stays failed (replayable once the parser can read it) and agents get a ticket
        // with the raw text: accepted mail never ends silently.
        const filed = await deps.db.transaction(async (tx) => {
          if (!(await lockInboundForProcessing(tx, inboundId))) return null;
          const ticket = await fileUnreadable(tx, row, raw, error, deps.rules());
          await finishInbound(tx, inboundId, { state: 'failed', error, ticketId: ticket?.ticketId ?? null, articleId: ticket?.articleId ?? null });
          return ticket;
        });
        deps.metrics.failed.inc();
        log.error({ event: 'message.failed', code: 'PARSE_FAILED', ticketId: filed?.ticketId ?? null, err: { message: parsed.error } }, 'message could not be parsed; kept for replay, raw text filed as a ticket');
        return;
      }
      const message = parsed.message;
      const ruleSet = deps.rules();
      const classification = classifyMessage(ruleSet, row, message);
      // Mail to a bounce address is always a report; mail to a mailbox only when it looks like one
      // and parses as one (an auto-reply goes on as automatic mail to its ticket).
      const toBounceAddress = classification.bounceTokens.length > 0;
      const report = toBounceAddress || looksLikeBounce(message.headers, row.mailFrom) ? await parseBounce(raw) : null;
      const isBounce = toBounceAddress || (report !== null && report.kind !== 'auto_reply');
      // Before the transaction: seconds of regex work on a hostile text must not hold a lock.
      const redacted = isBounce ? null : await redactMessage(message, ruleSet, letOthersRun);
      // DNS lookups, before any lock: a slow resolver delays this message only.
      const senderAuth = isBounce || !deps.authenticateSender ? null : await deps.authenticateSender(raw, row);
      // An operator's release is final: the mail is filed (still restricted if unverified).
      const suspended =
        isBounce || !classification.mailbox || row.releasedAt
          ? null
          : suspensionReason(ruleSet.security, senderAuth, deps.fromTrustedRelay?.(row) ? upstreamSpamVerdict(message.headers) : null);
      // A batch that fails runs this again for each of its rows: only the run that commits counts.
      let counts = countedAtCommit(deps.metrics);
      const outcome = await filing.file(inboundId, filingLane(row, message, isBounce, large), async (tx) => {
        counts = countedAtCommit(deps.metrics);
        if (suspended) {
          await finishInbound(tx, inboundId, { state: 'suspended', reason: suspended, senderAuth });
          return { state: 'suspended' as const, reason: suspended };
        }
        if (isBounce) {
          const bounce = await handleBounce(tx, { secret: deps.secret, softBounceLimit: deps.softBounceLimit, metrics: counts.counters }, row, report, classification.bounceTokens);
          await finishInbound(tx, inboundId, { state: 'processed', reason: bounce.reason, ticketId: bounce.ticketId });
          return { ...bounce, bounce: report };
        }
        const result = await fileIntoTicket(tx, row, message, classification, {
          ruleSet,
          redacted: redacted!,
          senderAuth,
          secret: deps.secret,
          now: new Date(),
          metrics: counts.counters,
          totalWindows,
          attachmentContents: large ? (partIndexes, onPiece) => readAttachmentContents(raw, partIndexes, onPiece) : undefined,
        });
        await Promise.all([
          result.state === 'processed' && result.touch ? touchTicket(tx, result.ticketId) : null,
          finishInbound(tx, inboundId, {
            state: result.state,
            senderAuth,
            reason: result.state === 'ignored' ? result.reason : null,
            ticketId: result.ticketId ?? null,
            articleId: result.articleId ?? null,
          }),
        ]);
        return result;
      });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (!outcome) return;
      counts.commit();
      deps.metrics.processingSeconds.observe((Date.now() - row.receivedAt.getTime()) / 1000);
      if (outcome.state === 'suspended') {
        deps.metrics.suspended.labels(outcome.reason.startsWith('spam:') ? 'spam' : outcome.reason).inc();
        log.warn({ event: 'message.suspended', messageId: message.messageId, reason: outcome.reason, mailFrom: row.mailFrom, ms }, 'message suspended: kept aside, no ticket, no mail');
        return;
      }
      if (outcome.state === 'processed') deps.metrics.processed.inc();
      else deps.metrics.ignored.labels(ignoredReasonLabel(outcome.reason)).inc();
      if ('bounceId' in outcome) {
        log.info(
          {
            event: 'bounce.recorded',
            bounceId: outcome.bounceId,
            ticketId: outcome.ticketId,
            outcome: outcome.reason,
            source: outcome.bounce?.source ?? null,
            recipients: outcome.bounce?.recipients.length ?? 0,
            ms,
          },
          'bounce recorded',
        );
        return;
      }
      if (outcome.state === 'processed') {
        for (const deliveryId of outcome.deliveryIds) deps.onDeliveryQueued(deliveryId);
        log.info(
          {
            event: 'message.processed',
            messageId: message.messageId,
            ticketId: outcome.ticketId,
            ticketNumber: outcome.ticketNumber,
            articleId: outcome.articleId,
            created: outcome.created,
            threadedBy: outcome.threadedBy,
            deliveries: outcome.deliveryIds.length,
            autoGenerated: classification.automation.reason,
            ms,
          },
          'message processed',
        );
      } else {
        log.info({ event: 'message.ignored', messageId: message.messageId, reason: outcome.reason, ms }, 'message ignored');
      }
    } catch (err) {
      if (row.attempts >= deps.maxAttempts) {
        await finishInbound(deps.db, inboundId, { state: 'failed', error: errorText(err) });
        deps.metrics.failed.inc();
        log.error({ event: 'message.failed', err }, 'message failed after its last attempt; kept for replay');
        return;
      }
      // Hand the row back so a retry (or the sweeper, if the queue lost the job) claims it again.
      await finishInbound(deps.db, inboundId, { state: 'received', error: errorText(err) }).catch((releaseErr: unknown) =>
        log.warn({ event: 'message.release_failed', err: releaseErr }, 'could not release row; the sweeper will'),
      );
      log.warn({ event: 'message.retry', err }, 'processing failed; will retry');
      throw err;
    }
  };
}

/**
 * Which lane of a filing batch a mail goes in: mail from one domain one after the other (its
 * automatic replies count against that domain's limit), bounces one after the other; null (a
 * transaction of its own) for a mail whose attachments are streamed in by COPY.
 */
function filingLane(row: InboundRow, message: ParsedMessage, isBounce: boolean, large: boolean): string | null {
  if (large || message.attachments.length > 0) return null;
  if (isBounce) return 'bounce';
  const sender = (message.from?.address || row.mailFrom || '').toLowerCase();
  return `domain:${canonicalDomain(sender)}`;
}

/** The root cause, not drizzle's wrapper (whose message is the whole SQL text). */
function errorText(err: unknown): string {
  let root = err;
  while (root instanceof Error && root.cause instanceof Error) root = root.cause;
  if (!(root instanceof Error)) return String(root);
  const code = (root as { code?: unknown }).code;
  return `${root.name}${typeof code === 'string' ? ` ${code}` : ''}: ${root.message}`.slice(0, 2000);
}
