import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimInbound, finishInbound, getInbound } from '../../db/inbound.js';
import { createFilingBatches } from '../../daemon/pipeline/filing-batches.js';
import { takeLaneLock } from '../../db/lane-locks.js';
import { queuedId } from '../helpers/smtp-client.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

/*
 * The group commit of filing, on the real database of each mode: spool rows from a daemon that
 * only takes mail (no workers), claimed by the test, filed by work the test controls.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { MAILROOM_WORKER_CONCURRENCY: '0' } });
});
afterAll(async () => {
  await t?.close();
});

async function claimedRows(n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let k = 0; k < n; k += 1) {
    const from = `rows${k}@client.example`;
    const id = queuedId(await t.send({ from, to: ['soporte@example.com'] }, rawMessage({ from, subject: `Row ${k}` })));
    expect(await claimInbound(t.db, id)).not.toBeNull();
    ids.push(id);
  }
  return ids;
}

const stateOf = async (id: number) => (await getInbound(t.db, id))?.state;

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('filing batches', () => {
  it('files the rows that waited in one transaction; one that fails is rolled back with its batch and fails alone', async () => {
    const [first, a, poisoned, b] = await claimedRows(4);
    const failedBatches: number[] = [];
    const filing = createFilingBatches({ db: t.db, maxRows: 32, maxTransactions: 1, deadlineMs: 30_000, onBatchFailed: (rows) => failedBatches.push(rows) });
    const held = gate();
    const ran: number[] = [];
    const finish = (id: number) => async (tx: typeof t.db) => {
      ran.push(id);
      await finishInbound(tx, id, { state: 'processed' });
      return id;
    };

    const firstFiled = filing.file(first!, 'lane-0', async (tx) => {
      await held.opened;
      return finish(first!)(tx);
    });
    // The only transaction is busy: these three wait and go together, each in a lane of its own.
    const filedB = filing.file(b!, 'lane-b', finish(b!));
    const filedA = filing.file(a!, 'lane-a', finish(a!));
    const poisonedError = filing
      .file(poisoned!, 'lane-p', async (tx) => {
        ran.push(poisoned!);
        await tx.execute(sql`select 1 / 0`);
        return poisoned!;
      })
      .then(
        () => null,
        (err: unknown) => err,
      );
    held.open();

    await expect(firstFiled).resolves.toBe(first);
    await expect(filedA).resolves.toBe(a);
    await expect(filedB).resolves.toBe(b);
    const error = (await poisonedError) as Error;
    expect(`${error.message} ${(error.cause as Error | undefined)?.message}`).toContain('division by zero');
    expect(failedBatches).toEqual([3]);
    // first alone; then a, poisoned and b side by side (the batch, rolled back); then one by one.
    expect(ran).toEqual([first, a, poisoned, b, a, poisoned, b]);
    expect(await stateOf(a!)).toBe('processed');
    expect(await stateOf(b!)).toBe('processed');
    expect(await stateOf(poisoned!)).toBe('processing');
  });

  it('answers only after the commit, and skips a row that no longer needs work, or is given twice', async () => {
    const [busy, done, twice, alone] = await claimedRows(4);
    await finishInbound(t.db, done!, { state: 'processed' });
    const filing = createFilingBatches({ db: t.db, maxRows: 32, maxTransactions: 1, deadlineMs: 30_000 });
    const held = gate();
    const ran: number[] = [];
    const seenAfter: Array<string | undefined> = [];
    const work = (id: number) => async (tx: typeof t.db) => {
      ran.push(id);
      await finishInbound(tx, id, { state: 'ignored', reason: 'test' });
      return id;
    };
    const busyFiled = filing.file(busy!, 'x', async (tx) => {
      await held.opened;
      return work(busy!)(tx);
    });
    const results = [filing.file(done!, 'x', work(done!)), filing.file(twice!, 'x', work(twice!)), filing.file(twice!, 'x', work(twice!))].map((p) =>
      p.then(async (value) => {
        // Read on another connection: what the answer reports is committed.
        seenAfter.push(await stateOf(twice!));
        return value;
      }),
    );
    // Without a lane: its own transaction, after the batch.
    const aloneFiled = filing.file(alone!, null, work(alone!));
    held.open();
    await busyFiled;
    expect(await Promise.all(results)).toEqual([null, twice, null]);
    expect(await aloneFiled).toBe(alone);
    expect(ran).toEqual([busy, twice, alone]);
    expect(seenAfter).toEqual(['ignored', 'ignored', 'ignored']);
    expect(await stateOf(alone!)).toBe('ignored');
  });

  it('keeps lanes that want the same ticket apart: a later lane waits for an earlier one; an earlier one never waits, the batch goes one by one', async () => {
    const [busy, early, late, early2, late2] = await claimedRows(5);
    const conflicts: number[] = [];
    const filing = createFilingBatches({ db: t.db, maxRows: 32, maxTransactions: 1, deadlineMs: 30_000, onLaneConflict: (rows) => conflicts.push(rows) });
    const steps: string[] = [];
    const fileBatch = async (first: number, second: number, firstTakesLate: boolean) => {
      const held = gate();
      const lateTook = gate();
      const busyFiled = filing.file(busy!, 'busy', async () => {
        await held.opened;
        return busy!;
      });
      const earlyFiled = filing.file(first, 'early', async (tx) => {
        // In the second batch the earlier lane asks only once the later one holds the lock.
        if (firstTakesLate) await lateTook.opened;
        await takeLaneLock(tx, 'ticket:1');
        steps.push(`early ${first} holds`);
        await finishInbound(tx, first, { state: 'processed' });
        steps.push(`early ${first} done`);
        return first;
      });
      const lateFiled = filing.file(second, 'late', async (tx) => {
        await takeLaneLock(tx, 'ticket:1');
        steps.push(`late ${second} holds`);
        lateTook.open();
        await finishInbound(tx, second, { state: 'processed' });
        return second;
      });
      held.open();
      return Promise.all([busyFiled, earlyFiled, lateFiled]);
    };

    expect(await fileBatch(early!, late!, false)).toEqual([busy, early, late]);
    expect(steps).toEqual([`early ${early} holds`, `early ${early} done`, `late ${late} holds`]);
    expect(conflicts).toEqual([]);

    steps.length = 0;
    await claimInbound(t.db, busy!);
    expect(await fileBatch(early2!, late2!, true)).toEqual([busy, early2, late2]);
    expect(conflicts).toEqual([2]);
    // The batch: the later lane took the lock, the earlier one asked and the batch gave up; then one by one.
    expect(steps).toEqual([`late ${late2} holds`, `early ${early2} holds`, `early ${early2} done`, `late ${late2} holds`]);
    expect(await stateOf(early2!)).toBe('processed');
    expect(await stateOf(late2!)).toBe('processed');
  });

  it('gives up on a transaction that does not end in time: its rows fail to be retried, and the next batch goes on', async () => {
    const [stuck, next] = await claimedRows(2);
    const overdue: number[] = [];
    const filing = createFilingBatches({ db: t.db, maxRows: 32, maxTransactions: 1, deadlineMs: 300, onOverdue: (rows) => overdue.push(rows) });
    const released = gate();
    const stuckFiled = filing
      .file(stuck!, 'a', async (tx) => {
        await released.opened;
        await finishInbound(tx, stuck!, { state: 'processed' });
        return stuck!;
      })
      .then(
        () => null,
        (err: unknown) => err as Error,
      );
    expect((await stuckFiled)?.message).toMatch(/^FILING_TIMEOUT/);
    expect(overdue).toEqual([1]);
    // Its place is free: the next row is filed (after the late one ends, on PGlite's one connection).
    const nextFiled = filing.file(next!, 'b', async (tx) => {
      await finishInbound(tx, next!, { state: 'processed' });
      return next!;
    });
    released.open();
    await expect(nextFiled).resolves.toBe(next);
    // The late transaction still commits; a retry of its row would find it done.
    await waitFor(async () => (await stateOf(stuck!)) === 'processed', 'the late transaction to commit');
  });
});
