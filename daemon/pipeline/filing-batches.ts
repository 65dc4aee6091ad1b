import type { Db } from '../../db/client.js';
import { lockInboundForProcessing, lockInboundRowsForProcessing } from '../../db/inbound.js';

/** What one spool row changes, inside a filing transaction; it must not commit anything itself. */
export type FilingWork<T> = (tx: Db) => Promise<T>;

export interface FilingBatches {
  /**
   * Runs `work` for spool row `inboundId` inside a transaction, with the row locked; null when the
   * row no longer needs work (another worker finished it). Settles only after the commit.
   */
  file<T>(inboundId: number, work: FilingWork<T>): Promise<T | null>;
}

export interface FilingBatchOptions {
  db: Db;
  /** Most rows filed in one transaction. */
  maxRows: number;
  /** Transactions running at once; rows that arrive meanwhile wait for the next one. */
  maxTransactions: number;
  /** A batch failed as a whole and its rows are being filed one by one. */
  onBatchFailed?: (rows: number, err: unknown) => void;
}

interface Waiting {
  inboundId: number;
  work: FilingWork<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for filing: rows that become ready while transactions are running are filed
 * together in the next one, each after the other in spool order, so BEGIN, the row locks and
 * COMMIT are paid once per batch instead of once per mail. A row alone is filed at once, as
 * before. A batch that fails as a whole (one mail's bad data, a deadlock with another batch) is
 * rolled back and each of its rows filed again in a transaction of its own, in spool order: one
 * bad mail fails alone and the rest commit.
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

  const fileTogether = async (batch: Waiting[]): Promise<void> => {
    if (batch.length === 1) return fileAlone(batch[0]!);
    batch.sort((a, b) => a.inboundId - b.inboundId);
    let results: unknown[];
    try {
      results = await options.db.transaction(async (tx) => {
        const ready = await lockInboundRowsForProcessing(
          tx,
          batch.map((item) => item.inboundId),
        );
        const out: unknown[] = [];
        for (const item of batch) {
          // A row two workers hold (a retry claimed while the first attempt still ran) is filed once.
          const due = ready.delete(item.inboundId);
          out.push(due ? await item.work(tx) : null);
        }
        return out;
      });
    } catch (err) {
      options.onBatchFailed?.(batch.length, err);
      for (const item of batch) await fileAlone(item);
      return;
    }
    batch.forEach((item, i) => item.resolve(results[i]));
  };

  const startNext = (): void => {
    while (running < options.maxTransactions && waiting.length > 0) {
      const batch = waiting.splice(0, options.maxRows);
      running += 1;
      void fileTogether(batch).finally(() => {
        running -= 1;
        startNext();
      });
    }
  };

  return {
    file<T>(inboundId: number, work: FilingWork<T>): Promise<T | null> {
      return new Promise<T | null>((resolve, reject) => {
        waiting.push({ inboundId, work, resolve: resolve as (value: unknown) => void, reject });
        startNext();
      });
    },
  };
}
