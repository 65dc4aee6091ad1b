import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { jobId, type JobHandler, type JobQueue, type QueueSpec } from './job-queue.js';

export interface BullmqQueueOptions {
  redisUrl: string;
  spec: QueueSpec;
  /** Key prefix; tests use a unique one each. @defaultValue 'mailroom' */
  prefix?: string;
  maxAttempts: number;
}

/** BullMQ on Redis: several daemons share one queue and work each other's spool rows. */
export function createBullmqQueue(logger: Logger, options: BullmqQueueOptions): JobQueue {
  const prefix = options.prefix ?? 'mailroom';
  // Commands from the SMTP path must fail fast while Redis is down (the sweeper catches up),
  // so the producer does not queue commands offline; the worker's blocking connection must
  // never give up (maxRetriesPerRequest null, as BullMQ requires).
  const producer = new Redis(options.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
  producer.on('error', (err) => logger.warn({ event: 'queue.redis_error', err }, 'redis connection error'));
  const queue = new Queue(options.spec.name, {
    connection: producer,
    prefix,
    defaultJobOptions: {
      attempts: options.maxAttempts,
      backoff: { type: 'exponential', delay: 1000 },
      // The spool row records the outcome; finished jobs must not block a later replay's id.
      removeOnComplete: true,
      removeOnFail: true,
    },
  });
  queue.on('error', (err) => logger.warn({ event: 'queue.error', err }, 'queue error'));
  // Enqueues made while a bulk add is in flight go together in the next one: one Redis round
  // trip for many messages when intake is busy, no added latency when it is idle.
  const waiting: Array<{ id: number; resolve: () => void; reject: (err: unknown) => void }> = [];
  let adding = false;
  const flush = (): void => {
    if (adding || waiting.length === 0) return;
    adding = true;
    const batch = waiting.splice(0, 500);
    queue
      .addBulk(batch.map(({ id }) => ({ name: options.spec.job, data: { id }, opts: { jobId: jobId(options.spec, id) } })))
      .then(
        () => batch.forEach((item) => item.resolve()),
        (err: unknown) => batch.forEach((item) => item.reject(err)),
      )
      .finally(() => {
        adding = false;
        flush();
      });
  };
  let worker: Worker | null = null;
  let workerConnection: Redis | null = null;

  return {
    kind: 'bullmq',
    enqueue(id) {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ id, resolve, reject });
        flush();
      });
    },
    startWorker(handler: JobHandler, concurrency: number) {
      const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
      workerConnection = connection;
      connection.on('error', (err) => logger.warn({ event: 'queue.redis_error', err }, 'redis worker connection error'));
      worker = new Worker(
        options.spec.name,
        async (job) => {
          await handler(Number((job.data as { id: number }).id));
        },
        { connection, prefix, concurrency, autorun: true },
      );
      worker.on('error', (err) => logger.warn({ event: 'queue.worker_error', err }, 'worker error'));
      worker.on('failed', (job, err) =>
        logger.warn({ event: 'queue.job_failed', jobId: job?.id, attemptsMade: job?.attemptsMade, err }, 'job attempt failed'),
      );
    },
    async depth() {
      const counts = await queue.getJobCounts('waiting', 'delayed', 'prioritized');
      return Object.values(counts).reduce((sum, n) => sum + n, 0);
    },
    async ping() {
      await producer.ping();
    },
    async close() {
      // Waits for running jobs; connections we created are ours to close.
      if (worker) await worker.close();
      workerConnection?.disconnect();
      await queue.close();
      producer.disconnect();
    },
  };
}
