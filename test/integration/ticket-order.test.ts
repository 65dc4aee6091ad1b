import { asc, eq, inArray, isNotNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { articles, inboundMessages } from '../../db/schema.js';
import { runLoad } from '../helpers/load-client.js';
import { ticketOfInbound, waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

/*
 * Mail is processed by several workers at once (and by several daemons), yet a ticket's
 * conversation must read in the order the mail arrived: 1,000 replies spread over 50 tickets from
 * 20 SMTP sessions at once; each ticket's articles follow the order of their spool rows.
 */
const TICKETS = 50;
const REPLIES = 1000;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('the order of a ticket’s articles under concurrent load', () => {
  it(`keeps arrival order: ${REPLIES} replies over ${TICKETS} tickets from 20 sessions`, async () => {
    const openers: string[] = [];
    for (let k = 0; k < TICKETS; k += 1) {
      const messageId = `opener-${k}-${Date.now()}@client.example`;
      const from = `c${k}@client.example`;
      const sent = await t.send({ from, to: ['soporte@example.com'] }, rawMessage({ from, subject: `Order ${k}`, body: `Ticket ${k} starts here.`, messageId }));
      await ticketOfInbound(t, await waitForInbound(t, queuedId(sent)));
      openers.push(messageId);
    }
    const load = await runLoad({
      port: t.smtpPort,
      mails: REPLIES,
      sessions: 20,
      deadlineMs: 240_000, // ceilings for a loaded CI machine: alone this takes about 30 s
      from: 'load@client.example',
      to: 'soporte@example.com',
      build: (index, ids) => {
        // Runs of consecutive mails to one ticket: they arrive together and are worked on at once.
        const k = Math.floor(index / (REPLIES / TICKETS)) % TICKETS;
        return Buffer.from(
          rawMessage({
            from: `c${k}@client.example`,
            subject: `Re: Order ${k}`,
            body: `Reply ${index} on ticket ${k}: still broken, here is more detail.`,
            messageId: ids.messageId,
            inReplyTo: openers[k],
            references: `<${openers[k]}>`,
          }),
        );
      },
    });
    expect(load.acks).toHaveLength(REPLIES);
    const spoolIds = load.acks.map((a) => a.spoolId);
    await waitFor(
      async () => {
        const rows = await t.db.select({ state: inboundMessages.state }).from(inboundMessages).where(inArray(inboundMessages.id, spoolIds));
        return rows.every((r) => r.state === 'processed') || undefined;
      },
      'every reply processed',
      240_000,
    );
    const stored = await t.db
      .select({ ticketId: articles.ticketId, inboundId: articles.inboundId })
      .from(articles)
      .where(isNotNull(articles.inboundId))
      .orderBy(asc(articles.id));
    const byTicket = new Map<number, number[]>();
    for (const row of stored) byTicket.set(row.ticketId, [...(byTicket.get(row.ticketId) ?? []), row.inboundId!]);
    expect(byTicket.size).toBe(TICKETS);
    const outOfOrder = [...byTicket].filter(([, inboundIds]) => inboundIds.some((id, i) => i > 0 && id < inboundIds[i - 1]!));
    expect(outOfOrder.map(([ticketId, inboundIds]) => ({ ticketId, inboundIds }))).toEqual([]);
    expect([...byTicket.values()].reduce((sum, ids) => sum + ids.length, 0)).toBe(TICKETS + REPLIES);
    // Kept by waiting, not by luck or by giving up: no row went ahead of an earlier one.
    expect(t.logs.events('message.order_not_kept')).toEqual([]);
    // Each reply landed on its own ticket, none opened a new one.
    const first = await t.db.select({ ticketId: inboundMessages.ticketId }).from(inboundMessages).where(eq(inboundMessages.id, spoolIds[0]!));
    expect(first[0]!.ticketId).not.toBeNull();
  }, 540_000);
});
