import type { Db } from '../../db/client.js';
import { findInboundRaw, getInbound, type InboundSummary } from '../../db/inbound.js';
import { findTicketById } from '../../db/tickets.js';
import { parseMessage, type ParsedMessage } from '../../parsers/message.js';
import { withDeadline } from '../deadline.js';

/*
 * The JSON shapes of spool rows, shared by the CLI's `--json` and the API so the two never drift
 * apart.
 */

/** A showing parses a message that may be hostile (and inside the daemon): never for long. */
const SHOW_PARSE_DEADLINE_MS = 20_000;

/** A spool row as `inbound list --json` gives it. */
export function inboundRecord(row: InboundSummary) {
  return {
    id: row.id,
    receivedAt: row.receivedAt.toISOString(),
    state: row.state,
    reason: row.stateReason,
    error: row.lastError,
    attempts: row.attempts,
    mailFrom: row.mailFrom,
    rcptTo: row.rcptTo,
    clientAddress: row.clientAddress,
    clientHelo: row.clientHelo,
    tls: row.tls,
    sizeBytes: row.sizeBytes,
    sha256: row.sha256,
    ticketId: row.ticketId,
    articleId: row.articleId,
    senderAuth: row.senderAuth ?? null,
  };
}

export type InboundDetail = ReturnType<typeof inboundDetailOf>;

/**
 * One spool row as `inbound show --json` gives it, with the parsed message for the text form;
 * null when there is no such row. A row still arriving is not parsed: only part of it is stored.
 */
export async function readInboundDetail(db: Db, id: number): Promise<{ row: InboundSummary; message: ParsedMessage | null; stored: boolean; detail: InboundDetail } | null> {
  const row = await getInbound(db, id);
  if (!row) return null;
  const ticket = row.ticketId ? await findTicketById(db, row.ticketId) : null;
  const raw = row.state === 'receiving' ? null : await findInboundRaw(db, id);
  const parsed = raw
    ? await withDeadline(parseMessage(raw, { keepAttachmentContent: false }), SHOW_PARSE_DEADLINE_MS, () => ({ ok: false as const, error: `not parsed within ${SHOW_PARSE_DEADLINE_MS / 1000} s` }))
    : null;
  const message = parsed?.ok ? parsed.message : null;
  return { row, message, stored: raw !== null, detail: inboundDetailOf(row, ticket?.number ?? null, message, parsed && !parsed.ok ? parsed.error : null) };
}

function inboundDetailOf(row: InboundSummary, ticketNumber: number | null, message: ParsedMessage | null, parseError: string | null) {
  return {
    ...inboundRecord(row),
    chunkCount: row.chunkCount,
    ticketNumber,
    releasedAt: row.releasedAt?.toISOString() ?? null,
    updatedAt: row.updatedAt.toISOString(),
    processedAt: row.processedAt?.toISOString() ?? null,
    from: message?.from?.address ?? null,
    fromName: message?.from?.name || null,
    to: message?.to.map((a) => a.address) ?? [],
    subject: message?.subject ?? null,
    date: message?.date?.toISOString() ?? null,
    messageId: message?.messageId ?? null,
    parseError,
  };
}
