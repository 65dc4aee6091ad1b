import { count } from 'drizzle-orm';
import type { Db } from './client.js';
import { tickets, type TicketStatus } from './schema.js';

/** How many tickets each status holds: the console's queue header. */
export async function countTicketsByStatus(db: Db): Promise<Partial<Record<TicketStatus, number>>> {
  const rows = await db.select({ status: tickets.status, n: count() }).from(tickets).groupBy(tickets.status);
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
}
