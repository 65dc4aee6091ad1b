import { eq } from 'drizzle-orm';
import { listArticles } from '../../db/articles.js';
import { getInbound, type InboundSummary } from '../../db/inbound.js';
import { articles, tickets } from '../../db/schema.js';
import { findTicketById, listParticipants, listTicketEvents, type TicketRow } from '../../db/tickets.js';
import type { TestApp } from './test-app.js';
import { waitFor } from './wait.js';

/** Waits until a spool row has finished processing (processed, ignored, failed or suspended). */
export async function waitForInbound(t: TestApp, inboundId: number, timeoutMs = 30_000): Promise<InboundSummary> {
  return waitFor(
    async () => {
      const row = await getInbound(t.db, inboundId);
      return row && ['processed', 'ignored', 'failed', 'suspended'].includes(row.state) ? row : undefined;
    },
    `spool row ${inboundId} to finish`,
    timeoutMs,
  );
}

export async function ticketOfInbound(t: TestApp, row: InboundSummary): Promise<TicketRow> {
  if (!row.ticketId) throw new Error(`spool row ${row.id} has no ticket (state ${row.state}, ${row.stateReason ?? row.lastError})`);
  return (await findTicketById(t.db, row.ticketId))!;
}

/**
 * A ticket with its rows, read one query after the other, the ticket last: once an event is
 * seen its transaction has committed, so the ticket read after it shows that transaction's changes
 * (parallel reads on a pool could straddle the commit).
 */
export async function ticketDetail(t: TestApp, ticketId: number) {
  const events = await listTicketEvents(t.db, ticketId);
  const articleRows = await listArticles(t.db, ticketId);
  const participants = await listParticipants(t.db, ticketId);
  const ticket = await findTicketById(t.db, ticketId);
  return { ticket: ticket!, participants, articles: articleRows, events };
}

export async function countTickets(t: TestApp): Promise<number> {
  return (await t.db.select({ id: tickets.id }).from(tickets)).length;
}

export async function articlesWithMessageId(t: TestApp, messageId: string) {
  return t.db.select().from(articles).where(eq(articles.messageId, messageId));
}
