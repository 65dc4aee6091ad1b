import { and, arrayContains, asc, desc, eq, sql, type SQL } from 'drizzle-orm';
import { canonicalAddress } from '../parsers/addresses.js';
import type { Db } from './client.js';
import { articles, contacts, tickets, type TicketStatus } from './schema.js';

export const TICKET_SORTS = ['updated', 'created', 'number'] as const;
export type TicketSort = (typeof TICKET_SORTS)[number];

/** Where the previous page ended: its last row's sort key and id. */
export interface TicketPageMark {
  key: string;
  id: number;
}

export interface TicketPageFilter {
  status?: TicketStatus;
  tag?: string;
  mailbox?: string;
  requester?: string;
  category?: string;
  /** Words to find in the subject or an article's visible text (web search syntax: `"exact phrase"`, `-not`, `or`). */
  q?: string;
  sort: TicketSort;
  order: 'asc' | 'desc';
  after?: TicketPageMark;
  limit: number;
}

/** A ticket as lists show it. */
export interface TicketListItem {
  number: number;
  subject: string;
  status: TicketStatus;
  mailbox: string;
  requester: string;
  category: string | null;
  tags: string[];
  articleCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export type TicketPageRow = TicketListItem & { mark: TicketPageMark };

/**
 * One page of tickets in a stable order: the sort key, then the id, both in the same direction,
 * so a page that starts after the previous page's last row never repeats or skips one. Times are
 * keyed in microseconds, the database's own resolution: a JavaScript Date (milliseconds) would
 * make the next page start in the middle of the same millisecond.
 */
export async function pageTickets(db: Db, filter: TicketPageFilter): Promise<TicketPageRow[]> {
  const time = filter.sort === 'created' ? tickets.createdAt : tickets.updatedAt;
  // Ordered by the column itself, so the (column, id) indexes serve the page; the mark keeps it
  // as whole microseconds, turned back into a timestamp exactly (an interval, not a float).
  const orderColumn = filter.sort === 'number' ? tickets.number : time;
  const key: SQL<string> = filter.sort === 'number' ? sql<string>`${tickets.number}::bigint` : sql<string>`(extract(epoch from ${time}) * 1000000)::bigint`;
  const markValue = (mark: TicketPageMark) =>
    filter.sort === 'number' ? sql`${mark.key}::bigint` : sql`(timestamptz 'epoch' + (${mark.key}::bigint || ' microseconds')::interval)`;
  const direction = filter.order === 'asc' ? asc : desc;
  const after = filter.after
    ? filter.order === 'asc'
      ? sql`(${orderColumn}, ${tickets.id}) > (${markValue(filter.after)}, ${filter.after.id}::bigint)`
      : sql`(${orderColumn}, ${tickets.id}) < (${markValue(filter.after)}, ${filter.after.id}::bigint)`
    : undefined;
  const words = filter.q?.trim() ? sql`websearch_to_tsquery('simple', ${filter.q.trim()})` : null;
  const rows = await db
    .select({
      id: tickets.id,
      key: sql<string>`${key}::text`,
      number: tickets.number,
      subject: tickets.subject,
      status: tickets.status,
      mailbox: tickets.mailbox,
      requester: contacts.address,
      category: tickets.category,
      tags: tickets.tags,
      articleCount: sql<number>`(select count(*) from ${articles} where ${articles.ticketId} = ${tickets.id})`.mapWith(Number),
      createdAt: tickets.createdAt,
      updatedAt: tickets.updatedAt,
    })
    .from(tickets)
    .innerJoin(contacts, eq(contacts.id, tickets.requesterId))
    .where(
      and(
        filter.status ? eq(tickets.status, filter.status) : undefined,
        filter.tag !== undefined ? arrayContains(tickets.tags, [filter.tag]) : undefined,
        filter.mailbox !== undefined ? sql`lower(${tickets.mailbox}) = ${filter.mailbox.trim().toLowerCase()}` : undefined,
        filter.requester !== undefined ? eq(contacts.canonicalAddress, canonicalAddress(filter.requester)) : undefined,
        filter.category !== undefined ? eq(tickets.category, filter.category) : undefined,
        words
          ? // Two `in` lists, each answered by its GIN index (migration 0010); `or exists` would compute every ticket's vector.
            sql`(${tickets.id} in (select ${tickets.id} from ${tickets} where to_tsvector('simple', ${tickets.subject}) @@ ${words}) or ${tickets.id} in (select ${articles.ticketId} from ${articles} where to_tsvector('simple', ${articles.visibleText}) @@ ${words}))`
          : undefined,
        after,
      ),
    )
    .orderBy(direction(orderColumn), direction(tickets.id))
    .limit(filter.limit);
  return rows.map(({ id, key: sortKey, ...item }) => ({ ...item, mark: { key: sortKey, id } }));
}

/** The newest tickets by number, filtered: the CLI's `tickets list` and the console's queue. */
export async function listTickets(db: Db, filter: Pick<TicketPageFilter, 'status' | 'tag' | 'requester' | 'limit'>): Promise<TicketListItem[]> {
  const rows = await pageTickets(db, { ...filter, sort: 'number', order: 'desc' });
  return rows.map(({ mark: _mark, ...item }) => item);
}
