import { createHash } from 'node:crypto';
import { findArticleByInboundId, insertArticle } from '../../db/articles.js';
import type { Db } from '../../db/client.js';
import type { InboundRow } from '../../db/inbound.js';
import { rawHeaderValue } from '../../parsers/raw-header.js';
import { addParticipants, addTicketEvent, upsertContact } from '../../db/tickets.js';
import { resolveRecipient } from '../../rules/mailboxes.js';
import type { RuleSet } from '../../rules/schema.js';
import { updateTags } from '../tickets/ticket-status.js';
import { openTicket } from './open-ticket.js';

export const PARSE_FAILED_TAG = 'parse_failed';

/** How much of the raw message an agent gets to read; the whole of it stays in the spool. */
const MAX_ARTICLE_BYTES = 1024 * 1024;

/**
 * A message that was accepted (250) but cannot be parsed still reaches the agents: a ticket in
 * the mailbox it was sent to, its raw text as the article, tagged `parse_failed`, no automatic
 * mail. Returns null when it went to no mailbox (a report to a bounce address). Runs again
 * harmlessly on a replay: the article is tied to the spool row.
 */
export async function fileUnreadable(tx: Db, row: InboundRow, raw: Buffer, error: string, ruleSet: RuleSet): Promise<{ ticketId: number; articleId: number } | null> {
  const already = await findArticleByInboundId(tx, row.id);
  if (already) return { ticketId: already.ticketId, articleId: already.id };
  const mailbox = row.rcptTo.map((address) => resolveRecipient(ruleSet, address)).find((match) => match?.kind === 'mailbox');
  if (!mailbox || mailbox.kind !== 'mailbox') return null;

  const fromHeader = /[^\s<>"(),;:@]+@[a-z0-9.-]+\.[a-z]{2,}/i.exec(rawHeaderValue(raw, 'from'))?.[0] ?? '';
  const sender = (row.mailFrom || fromHeader || `unknown@${mailbox.mailbox.address.split('@')[1]}`).toLowerCase();
  // Control characters are dropped so nothing a sender wrote can break where the subject is shown.
  const subject = (rawHeaderValue(raw, 'subject').replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 200) || '(message that could not be read)').trim();

  const requesterId = await upsertContact(tx, sender, '');
  const ticket = await openTicket(tx, { subject, mailbox: mailbox.mailbox.address, requesterId, category: mailbox.mailbox.default_category ?? null, inboundId: row.id });
  await addParticipants(tx, ticket.id, [{ contactId: requesterId, role: 'requester' }]);
  const text = readableText(raw, row.id);
  const article = await insertArticle(tx, {
    ticketId: ticket.id,
    inboundId: row.id,
    direction: 'inbound',
    messageId: null,
    inReplyTo: [],
    references: [],
    fromAddress: sender,
    fromName: '',
    subject,
    textBody: text,
    visibleText: text,
    bodyHash: createHash('sha256').update(raw).digest('hex'),
  });
  await updateTags(tx, ticket, [PARSE_FAILED_TAG], []);
  await addTicketEvent(tx, ticket.id, 'message.parse_failed', { inboundId: row.id, error }, article.id);
  return { ticketId: ticket.id, articleId: article.id };
}

/** Line length past which a line is cut in the article: RFC 5322's limit. */
const MAX_SHOWN_LINE = 998;

/** The raw message as text an agent can read: overlong lines cut, at most MAX_ARTICLE_BYTES in all. */
function readableText(raw: Buffer, inboundId: number): string {
  const lines: string[] = [];
  let size = 0;
  let start = 0;
  while (start < raw.length && size < MAX_ARTICLE_BYTES) {
    const newline = raw.indexOf(0x0a, start);
    const end = newline === -1 ? raw.length : newline;
    const length = end - start;
    const line = raw.subarray(start, Math.min(end, start + MAX_SHOWN_LINE)).toString('utf8').replace(/\r$/, '');
    lines.push(length > MAX_SHOWN_LINE ? `${line}… [${length - MAX_SHOWN_LINE} more bytes on this line]` : line);
    size += Math.min(length, MAX_SHOWN_LINE) + 1;
    start = end + 1;
  }
  if (start < raw.length) lines.push('', `[… ${raw.length - start} more bytes: the whole message is kept as spool row ${inboundId}]`);
  return lines.join('\n');
}
