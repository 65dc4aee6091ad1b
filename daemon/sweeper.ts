import type { Db } from '../db/client.js';
import { findUnsentDeliveries } from '../db/deliveries.js';
import { deleteAbandonedInbound, findUnfinishedInbound } from '../db/inbound.js';
import { createFailureStreak } from './failure-streak.js';
import type { Logger } from './logger.js';
import type { JobQueue } from './queue/job-queue.js';

export interface SweeperOptions {
  intervalMs: number;
  /** A received row not picked up for this long is offered again. @defaultValue 30 s */
  receivedGraceMs?: number;
  /** A row in processing for this long lost its worker. @defaultValue 5 min */
  processingLeaseMs?: number;
  /** Rows that never finished arriving are deleted after this. @defaultValue 1 h */
  abandonedAfterMs?: number;
}

export interface Sweeper {
  /** One pass; `startup` also takes rows a previous run of this process left behind. */
  sweep(startup?: boolean): Promise<number>;
  start(): void;
  stop(): void;
}

/** Re-enqueues spool rows and outbox rows the queues lost: jobs are hints, rows are the truth. */
export function createSweeper(db: Db, queues: { inbound: JobQueue; outbound: JobQueue }, logger: Logger, options: SweeperOptions): Sweeper {
  const queue = queues.inbound;
  const receivedGraceMs = options.receivedGraceMs ?? 30_000;
  const processingLeaseMs = options.processingLeaseMs ?? 5 * 60_000;
  const abandonedAfterMs = options.abandonedAfterMs ?? 60 * 60_000;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> | null = null;

  const pass = async (startup: boolean): Promise<number> => {
    const now = new Date();
    let total = 0;
    let afterId: number | undefined;
    for (;;) {
      const ids = await findUnfinishedInbound(db, {
        now,
        receivedGraceMs: startup ? 0 : receivedGraceMs,
        // Alone on the in-process queue, whatever is "processing" at start-up was ours and died.
        processingLeaseMs: startup && queue.kind === 'in-process' ? 0 : processingLeaseMs,
        limit: 1000,
        afterId,
      });
      // Concurrently, so the BullMQ queue can send them in bulk.
      await Promise.all(ids.map((id) => queue.enqueue(id)));
      total += ids.length;
      if (ids.length < 1000) break;
      afterId = ids.at(-1);
      if (!startup) break; // a periodic pass takes one batch; the next pass takes more
    }
    const deleted = await deleteAbandonedInbound(db, new Date(now.getTime() - abandonedAfterMs));
    const unsent = await findUnsentDeliveries(db, new Date(now.getTime() - (startup ? 0 : receivedGraceMs)), 1000);
    await Promise.all(unsent.map((id) => queues.outbound.enqueue(id)));
    if (total > 0 || deleted > 0 || unsent.length > 0) {
      logger.info(
        { event: 'sweeper.pass', requeued: total, deliveriesRequeued: unsent.length, abandonedDeleted: deleted, startup },
        'sweeper re-enqueued unfinished rows',
      );
    }
    return total;
  };

  const sweep = async (startup = false): Promise<number> => {
    // One pass at a time; a timer firing during a slow pass waits for it.
    running = (running ?? Promise.resolve(0)).catch(() => 0).then(() => pass(startup));
    return running;
  };

  // While the database or Redis is down every pass fails the same way: logged once, then counted.
  const failures = createFailureStreak(logger, {
    started: { event: 'sweeper.failed', msg: 'sweeper pass failed; will try again' },
    repeated: { event: 'sweeper.failed_again', msg: 'sweeper pass failed again' },
    ended: { event: 'sweeper.recovered', msg: 'sweeper passes work again' },
  });

  return {
    sweep,
    start() {
      timer = setInterval(() => {
        sweep().then(
          () => failures.succeed(),
          (err: unknown) => failures.fail(err),
        );
      }, options.intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
