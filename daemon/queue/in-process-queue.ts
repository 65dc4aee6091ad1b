import type { Logger } from '../logger.js';
import { jobAttempts, retryDelayMs, type JobHandler, type JobQueue, type QueueSpec } from './job-queue.js';

/**
 * The queue of a single daemon without Redis. Nothing here needs to survive a crash: the spool
 * rows do, and the sweeper re-enqueues them at start-up.
 */
export interface InProcessQueueOptions {
  /** A row's attempts (MAILROOM_MAX_ATTEMPTS); a job runs up to jobAttempts(this) times. */
  maxAttempts: number;
  /** The wait before a failed job's next run. @defaultValue retryDelayMs */
  retryDelay?: (attempt: number) => number;
}

export function createInProcessQueue(logger: Logger, spec: QueueSpec, options: InProcessQueueOptions): JobQueue {
  const runs = jobAttempts(options.maxAttempts);
  const retryDelay = options.retryDelay ?? retryDelayMs;
  const waiting: number[] = [];
  const known = new Set<number>();
  const attempts = new Map<number, number>();
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  let handler: JobHandler | null = null;
  let concurrency = 1;
  let closed = false;

  const pump = (): void => {
    while (handler && !closed && running.size < concurrency && waiting.length > 0) {
      const id = waiting.shift()!;
      const job = run(handler, id);
      running.add(job);
      void job.finally(() => {
        running.delete(job);
        pump();
      });
    }
  };

  const run = async (work: JobHandler, id: number): Promise<void> => {
    const attempt = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, attempt);
    try {
      await work(id);
      known.delete(id);
      attempts.delete(id);
    } catch (err) {
      if (attempt >= runs || closed) {
        // The row stays unfinished in the database; the sweeper will offer it again.
        logger.warn({ event: 'queue.job_abandoned', queue: spec.name, id, attempt, err }, 'job failed; left to the sweeper');
        known.delete(id);
        attempts.delete(id);
        return;
      }
      const delay = retryDelay(attempt);
      logger.warn({ event: 'queue.job_retry', queue: spec.name, id, attempt, delayMs: delay, err }, 'job failed; retrying');
      const timer = setTimeout(() => {
        timers.delete(timer);
        waiting.push(id);
        pump();
      }, delay);
      timer.unref();
      timers.add(timer);
    }
  };

  return {
    kind: 'in-process',
    async enqueue(id) {
      if (closed || known.has(id)) return;
      known.add(id);
      waiting.push(id);
      pump();
    },
    startWorker(work, workerConcurrency) {
      handler = work;
      concurrency = workerConcurrency;
      pump();
    },
    async depth() {
      return waiting.length + timers.size;
    },
    async ping() {},
    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.allSettled([...running]);
    },
  };
}
