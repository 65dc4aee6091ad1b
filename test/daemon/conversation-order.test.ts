import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createConversationOrder } from '../../daemon/pipeline/conversation-order.js';
import type { Database } from '../../db/client.js';
import { claimInbound, finishInbound, insertInbound, type InboundRow } from '../../db/inbound.js';
import { captureLogs } from '../helpers/log-capture.js';
import { useScratchDatabase } from '../helpers/scratch-database.js';

/*
 * A conversation's rows are filed in arrival order: a row waits while the earlier rows move, and
 * goes ahead (logged) only once the conversation has stood still for the stall time.
 */
let database: Database;
useScratchDatabase((opened) => (database = opened));

const STALL_MS = 400;

/** `count` spool rows of one new conversation, in arrival order. */
async function conversation(count: number): Promise<number[]> {
  const key = `conversation-${randomBytes(4).toString('hex')}`;
  const ids: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const raw = Buffer.from(`Subject: mail ${i}\r\n\r\nbody\r\n`);
    const envelope = { mailFrom: 'ana@client.example', rcptTo: ['desk@example.com'], clientAddress: '127.0.0.1', clientHelo: 'client', tls: false, receivedAt: new Date() };
    ids.push(await insertInbound(database.db, envelope, raw, 'sha', key));
  }
  return ids;
}

/** Claims a row as a worker would: it is then `processing`, held by that worker. */
async function hold(id: number): Promise<InboundRow> {
  return (await claimInbound(database.db, id))!;
}

const finish = (id: number) => finishInbound(database.db, id, { state: 'processed' });
const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('filing a conversation in arrival order', () => {
  it('waits as long as the earlier rows keep being filed, longer than the stall time in all', async () => {
    const [first, second, third] = await conversation(3);
    await hold(first!);
    await hold(second!);
    const row = await hold(third!);
    const logs = captureLogs();
    const order = createConversationOrder({ db: database.db, logger: logs.logger, stallMs: STALL_MS }, () => Promise.resolve());
    const started = Date.now();
    const waited = order(row).then(() => Date.now() - started);
    await later(STALL_MS * 0.75);
    await finish(first!);
    await later(STALL_MS * 0.75);
    await finish(second!);
    expect(await waited).toBeGreaterThanOrEqual(STALL_MS);
    expect(logs.events('message.order_not_kept')).toEqual([]);
  });

  it('goes ahead, logged, when an earlier row stays held for the stall time (its worker died)', async () => {
    const [first, second] = await conversation(2);
    await hold(first!);
    const row = await hold(second!);
    const logs = captureLogs();
    const order = createConversationOrder({ db: database.db, logger: logs.logger, stallMs: STALL_MS }, () => Promise.resolve());
    const started = Date.now();
    await order(row);
    expect(Date.now() - started).toBeGreaterThanOrEqual(STALL_MS);
    expect(logs.events('message.order_not_kept')).toMatchObject([{ inboundId: second, earlierInboundId: first, earlierState: 'processing' }]);
  });

  it('files an earlier row nobody holds first, itself', async () => {
    const [first, second] = await conversation(2);
    const row = await hold(second!);
    const filedHere: number[] = [];
    const order = createConversationOrder({ db: database.db, logger: captureLogs().logger, stallMs: STALL_MS }, async (claimed) => {
      filedHere.push(claimed.id);
      await finish(claimed.id);
    });
    await order(row);
    expect(filedHere).toEqual([first]);
  });
});
