import type { Logger } from '../logger.js';
import { retryDelayMs, type JobHandler, type JobQueue, type QueueSpec } from './job-queue.js';

/**
 * The queue of a single daemon without Redis. Nothing here needs to survive a crash: the spool
 * rows do, and the sweeper re-enqueues them at start-up.
 */
export function createInProcessQueue(logger: Logger, spec: QueueSpec, maxAttempts: number): JobQueue {
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
      if (attempt >= maxAttempts || closed) {
        // The row stays unfinished in the database; the sweeper will offer it again.
        logger.warn({ event: 'queue.job_abandoned', queue: spec.name, id, attempt, err }, 'job failed; left to the sweeper');
        known.delete(id);
        attempts.delete(id);
        return;
      }
      const delay = retryDelayMs(attempt);
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
