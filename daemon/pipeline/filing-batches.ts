import type { Db } from '../../db/client.js';
import { lockInboundForProcessing, lockInboundRowsForProcessing } from '../../db/inbound.js';
import { LaneConflict, openLanes } from '../../db/lane-locks.js';

/** What one spool row changes, inside a filing transaction; it must not commit anything itself. */
export type FilingWork<T> = (tx: Db) => Promise<T>;

export interface FilingBatches {
  /**
   * Runs `work` for spool row `inboundId` inside a transaction, with the row locked; null when the
   * row no longer needs work (another worker finished it). Settles only after the commit.
   * `lane`: rows with the same lane are filed one after the other, rows of different lanes side by
   * side; null files the row in a transaction of its own (its work streams bytes by COPY, which
   * must have the connection to itself).
   */
  file<T>(inboundId: number, lane: string | null, work: FilingWork<T>): Promise<T | null>;
}

export interface FilingBatchOptions {
  db: Db;
  /** Most rows filed in one transaction. */
  maxRows: number;
  /** Transactions running at once; rows that arrive meanwhile wait for the next one. */
  maxTransactions: number;
  /** A batch failed as a whole and its rows are being filed one by one. */
  onBatchFailed?: (rows: number, err: unknown) => void;
  /** Two lanes of a batch wanted the same ticket or recipient; its rows are being filed one by one. */
  onLaneConflict?: (rows: number, err: LaneConflict) => void;
  /** A batch (with the one-by-one filing after it) takes at most this long; then its rows fail, to be retried. */
  deadlineMs: number;
  onOverdue?: (rows: number) => void;
}

interface Waiting {
  inboundId: number;
  lane: string | null;
  work: FilingWork<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for filing: rows that become ready while transactions are running are filed
 * together in the next one, so BEGIN, the row locks and COMMIT are paid once per batch instead of
 * once per mail. Within a batch, rows are grouped in lanes (by the caller: the sender's domain),
 * each lane filed in spool order, the lanes side by side: their statements travel to PostgreSQL
 * together, which is most of what filing costs both processes. What keeps two mails of one ticket
 * or one recipient apart across transactions keeps them apart across lanes (db/lane-locks.ts).
 * A row alone is filed at once, as before. A batch that fails as a whole (one mail's bad data, a
 * conflict between lanes, a deadlock with another batch) is rolled back and each of its rows
 * filed again in a transaction of its own, in spool order: one bad mail fails alone.
 */
export function createFilingBatches(options: FilingBatchOptions): FilingBatches {
  const waiting: Waiting[] = [];
  let running = 0;

  const fileAlone = async (item: Waiting): Promise<void> => {
    try {
      item.resolve(await options.db.transaction(async (tx) => ((await lockInboundForProcessing(tx, item.inboundId)) ? item.work(tx) : null)));
    } catch (err) {
      item.reject(err);
    }
  };

  const fileInLanes = async (batch: Waiting[]): Promise<void> => {
    if (batch.length === 1) return fileAlone(batch[0]!);
    batch.sort((a, b) => a.inboundId - b.inboundId);
    const lanes = new Map<string, Waiting[]>();
    for (const item of batch) {
      const lane = lanes.get(item.lane!);
      if (lane) lane.push(item);
      else lanes.set(item.lane!, [item]);
    }
    const results = new Map<Waiting, unknown>();
    try {
      await options.db.transaction(async (tx) => {
        const due = await lockInboundRowsForProcessing(
          tx,
          batch.map((item) => item.inboundId),
        );
        const { handles, finish } = openLanes(tx, lanes.size);
        const settled = await Promise.allSettled(
          [...lanes.values()].map(async (items, index) => {
            try {
              for (const item of items) {
                // A row two workers hold (a retry claimed while the first attempt still ran) is filed once.
                results.set(item, due.delete(item.inboundId) ? await item.work(handles[index]!) : null);
              }
            } finally {
              finish(index);
            }
          }),
        );
        const failures = settled.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected').map((outcome) => outcome.reason as unknown);
        // Once one lane's statement fails, the others' fail too ("transaction is aborted"): the first is the cause.
        if (failures.length > 0) throw failures.find((err) => !isAbortedTransaction(err)) ?? failures[0];
      });
    } catch (err) {
      if (err instanceof LaneConflict) options.onLaneConflict?.(batch.length, err);
      else options.onBatchFailed?.(batch.length, err);
      for (const item of batch) await fileAlone(item);
      return;
    }
    for (const item of batch) item.resolve(results.get(item) ?? null);
  };

  const fileTogether = async (batch: Waiting[]): Promise<void> => {
    const alone = batch.filter((item) => item.lane === null);
    const inLanes = batch.filter((item) => item.lane !== null);
    if (inLanes.length > 0) await fileInLanes(inLanes);
    for (const item of alone) await fileAlone(item);
  };

  const startNext = (): void => {
    while (running < options.maxTransactions && waiting.length > 0) {
      const batch = waiting.splice(0, options.maxRows);
      running += 1;
      let timer: NodeJS.Timeout | undefined;
      // A transaction whose connection died can leave its promise unsettled; it must not keep the
      // rows, nor the transaction's place, for ever. Its rows are handed back to the queue (a late
      // commit is harmless: a retry locks the row and finds it done).
      const overdue = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          const err = new Error(`FILING_TIMEOUT: the filing transaction did not end within ${options.deadlineMs / 1000} s`);
          for (const item of batch) item.reject(err);
          options.onOverdue?.(batch.length);
          resolve();
        }, options.deadlineMs);
        timer.unref();
      });
      void Promise.race([fileTogether(batch), overdue]).finally(() => {
        clearTimeout(timer);
        running -= 1;
        startNext();
      });
    }
  };

  return {
    file<T>(inboundId: number, lane: string | null, work: FilingWork<T>): Promise<T | null> {
      return new Promise<T | null>((resolve, reject) => {
        waiting.push({ inboundId, lane, work, resolve: resolve as (value: unknown) => void, reject });
        startNext();
      });
    },
  };
}

/** SQLSTATE 25P02: a statement refused because an earlier one failed in the same transaction. */
function isAbortedTransaction(err: unknown): boolean {
  for (let cause = err; cause instanceof Error; cause = cause.cause) {
    if ((cause as { code?: unknown }).code === '25P02') return true;
  }
  return false;
}
