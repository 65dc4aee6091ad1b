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
  let worker: Worker | null = null;
  let workerConnection: Redis | null = null;

  return {
    kind: 'bullmq',
    async enqueue(id) {
      await queue.add(options.spec.job, { id }, { jobId: jobId(options.spec, id) });
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
