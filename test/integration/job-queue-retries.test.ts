import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../daemon/logger.js';
import { createBullmqQueue } from '../../daemon/queue/bullmq-queue.js';
import { createInProcessQueue } from '../../daemon/queue/in-process-queue.js';
import { jobAttempts, QUEUES, type JobQueue } from '../../daemon/queue/job-queue.js';
import { realMode } from '../helpers/mode.js';
import { removeQueueKeys } from '../helpers/queue-keys.js';
import { waitFor } from '../helpers/wait.js';

/** A row's attempts, as MAILROOM_MAX_ATTEMPTS sets them. */
const ROW_ATTEMPTS = 5;
/** The schedule in milliseconds rather than seconds, so that a long outage takes a moment. */
const fastRetry = (attempt: number): number => 10 * attempt;

let queue: JobQueue | null = null;
let prefix = '';
afterEach(async () => {
  await queue?.close();
  queue = null;
  if (realMode) await removeQueueKeys(prefix);
});

/** The queue this mode's daemon runs: BullMQ on the real Redis, or the in-process one. */
function openQueue(): JobQueue {
  const logger = createLogger('silent');
  prefix = `mrtest-retries-${randomUUID()}`;
  queue = realMode
    ? createBullmqQueue(logger, { redisUrl: process.env.REDIS_URL!, spec: QUEUES.inbound, prefix, maxAttempts: ROW_ATTEMPTS, retryDelay: fastRetry })
    : createInProcessQueue(logger, QUEUES.inbound, { maxAttempts: ROW_ATTEMPTS, retryDelay: fastRetry });
  return queue;
}

/** A handler whose database is unreachable for its first `downRuns` runs. */
function handlerBehindOutage(downRuns: number) {
  const runs = new Map<number, number>();
  const done = new Set<number>();
  return {
    runs,
    done,
    handler: async (id: number): Promise<void> => {
      const run = (runs.get(id) ?? 0) + 1;
      runs.set(id, run);
      if (run <= downRuns) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      done.add(id);
    },
  };
}

describe(`the ${realMode ? 'BullMQ' : 'in-process'} queue's retries`, () => {
  it('keeps running a job through an outage longer than a row has attempts', async () => {
    const jobs = openQueue();
    // The handler fails each run while storage is down, without counting the row's attempts.
    const outage = handlerBehindOutage(ROW_ATTEMPTS + 4);
    jobs.startWorker(outage.handler, 4);
    await Promise.all([1, 2, 3].map((id) => jobs.enqueue(id)));
    await waitFor(() => outage.done.size === 3, 'every job to succeed once storage is back', 20_000);
    expect([...outage.runs.values()]).toEqual([ROW_ATTEMPTS + 5, ROW_ATTEMPTS + 5, ROW_ATTEMPTS + 5]);
  });

  it('gives a job up to the sweeper after its runs are used, instead of retrying for ever', async () => {
    const jobs = openQueue();
    const outage = handlerBehindOutage(Number.POSITIVE_INFINITY);
    jobs.startWorker(outage.handler, 4);
    await jobs.enqueue(7);
    await waitFor(() => outage.runs.get(7) === jobAttempts(ROW_ATTEMPTS), 'the last run', 20_000);
    // Its retries would have come by now (the schedule's longest wait is 10 ms × runs).
    await new Promise((resolve) => setTimeout(resolve, 50 * jobAttempts(ROW_ATTEMPTS)));
    expect(outage.runs.get(7)).toBe(jobAttempts(ROW_ATTEMPTS));
    expect(await jobs.depth()).toBe(0);
  });
});
