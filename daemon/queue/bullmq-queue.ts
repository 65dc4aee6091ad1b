import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { withDeadline } from '../deadline.js';
import { createFailureStreak, type FailureStreak } from '../failure-streak.js';
import { createPermits } from '../permits.js';
import type { Logger } from '../logger.js';
import { jobAttempts, jobId, retryDelayMs, type JobHandler, type JobQueue, type QueueSpec } from './job-queue.js';

export interface BullmqQueueOptions {
  redisUrl: string;
  spec: QueueSpec;
  /** Key prefix; tests use a unique one each. @defaultValue 'mailroom' */
  prefix?: string;
  /** A row's attempts (MAILROOM_MAX_ATTEMPTS); a job runs up to jobAttempts(this) times. */
  maxAttempts: number;
  /** The wait before a failed job's next run. @defaultValue retryDelayMs */
  retryDelay?: (attempt: number) => number;
  /** Shared by the queues on one Redis, so an outage is logged once. @defaultValue one of its own */
  outage?: FailureStreak;
  /** How long close() waits for running jobs and Redis before it disconnects. @defaultValue 10 s */
  closeTimeoutMs?: number;
}

/**
 * A Redis outage in the log: `queue.redis_down` at the first error, `queue.redis_up` with the
 * count when a connection is ready again; the reconnects in between only at DEBUG.
 */
export function createRedisOutageLog(logger: Logger): FailureStreak {
  return createFailureStreak(logger, {
    started: { event: 'queue.redis_down', msg: 'redis unreachable; mail waits in the spool and the sweeper re-enqueues it' },
    repeated: { event: 'queue.redis_error', msg: 'redis still unreachable' },
    ended: { event: 'queue.redis_up', msg: 'redis reachable again' },
  });
}

const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Errors that say Redis cannot be reached (as opposed to a command Redis refused). */
function isConnectionError(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return (code !== undefined && CONNECTION_ERROR_CODES.has(code)) || /Connection is closed|Stream isn't writeable/.test(err.message);
}

/** Ids one job carries at most. */
const MAX_IDS_PER_JOB = 500;

/**
 * The job of one row keeps the row's own id (enqueueing a row already waiting adds nothing); a job
 * of several is named by its first and last row and their count.
 */
function blockJobId(spec: QueueSpec, ids: number[]): string {
  return ids.length === 1 ? jobId(spec, ids[0]!) : `${jobId(spec, ids[0]!)}-${ids.at(-1)}-${ids.length}`;
}

/** The rows of a job: `{ ids }`, or `{ id }` as jobs were before (still queued across an upgrade). */
function jobIds(data: unknown): number[] {
  const { ids, id } = data as { ids?: unknown; id?: unknown };
  return (Array.isArray(ids) ? ids : [id]).map(Number).filter((n) => Number.isSafeInteger(n) && n > 0);
}

/** BullMQ on Redis: several daemons share one queue and work each other's spool rows. */
export function createBullmqQueue(logger: Logger, options: BullmqQueueOptions): JobQueue {
  const prefix = options.prefix ?? 'mailroom';
  const outage = options.outage ?? createRedisOutageLog(logger);
  const closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
  // The queue and the worker pass their connections' errors on: the same object, counted once.
  const seen = new WeakSet<Error>();
  const onError =
    (event: string) =>
    (err: Error): void => {
      if (seen.has(err)) return;
      seen.add(err);
      if (outage.isFailing() || isConnectionError(err)) outage.fail(err, { queue: options.spec.name });
      else logger.warn({ event, err }, 'queue error');
    };
  const watchConnection = (connection: Redis): void => {
    connection.on('error', onError('queue.redis_error'));
    connection.on('ready', () => outage.succeed());
  };
  // Commands from the SMTP path must fail fast while Redis is down (the sweeper catches up),
  // so the producer does not queue commands offline; the worker's blocking connection must
  // never give up (maxRetriesPerRequest null, as BullMQ requires).
  const producer = new Redis(options.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
  watchConnection(producer);
  const queue = new Queue(options.spec.name, {
    connection: producer,
    prefix,
    defaultJobOptions: {
      attempts: jobAttempts(options.maxAttempts),
      // The worker's backoffStrategy: BullMQ's exponential one has no cap (the 15th run would wait 4.5 h).
      backoff: { type: 'capped' },
      // The spool row records the outcome; finished jobs must not block a later replay's id.
      removeOnComplete: true,
      removeOnFail: true,
    },
  });
  queue.on('error', onError('queue.error'));
  // Enqueues made while an add is in flight go together in the next one, as one job that carries
  // all their ids: when intake is busy one job (a Redis script run, a lock, a completion) stands
  // for many rows, when it is idle a job is one row, with no added latency either way. An add
  // waits for the current tick to end, so that the rows of one spool batch, which are stored and
  // enqueued together, share a job rather than the first one having a job of its own.
  const waiting: Array<{ id: number; resolve: () => void; reject: (err: unknown) => void }> = [];
  let adding = false;
  let flushScheduled = false;
  const scheduleFlush = (): void => {
    if (flushScheduled) return;
    flushScheduled = true;
    process.nextTick(() => {
      flushScheduled = false;
      flush();
    });
  };
  const flush = (): void => {
    if (adding || waiting.length === 0) return;
    adding = true;
    const batch = waiting.splice(0, MAX_IDS_PER_JOB);
    queue
      .add(options.spec.job, { ids: batch.map((item) => item.id) }, { jobId: blockJobId(options.spec, batch.map((item) => item.id)) })
      .then(
        () => batch.forEach((item) => item.resolve()),
        (err: unknown) => batch.forEach((item) => item.reject(err)),
      )
      .finally(() => {
        adding = false;
        scheduleFlush();
      });
  };
  let worker: Worker | null = null;
  let workerConnection: Redis | null = null;
  const running = new Set<Promise<void>>();

  return {
    kind: 'bullmq',
    enqueue(id) {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ id, resolve, reject });
        scheduleFlush();
      });
    },
    startWorker(handler: JobHandler, concurrency: number) {
      const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
      workerConnection = connection;
      watchConnection(connection);
      // Rows of all running jobs share `concurrency` slots: a job of many rows spreads them over
      // the slots, and never runs more rows at once than the worker would run jobs.
      const withSlot = createPermits(concurrency);
      const runRow = (id: number): Promise<void> => {
        const run = withSlot(() => handler(id));
        running.add(run);
        return run.finally(() => running.delete(run));
      };
      worker = new Worker(
        options.spec.name,
        async (job) => {
          const results = await Promise.allSettled(jobIds(job.data).map(runRow));
          // Retried whole: rows that were done are claimed by nobody and cost a query each.
          const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
          if (failed) throw failed.reason;
        },
        { connection, prefix, concurrency, autorun: true, settings: { backoffStrategy: options.retryDelay ?? retryDelayMs } },
      );
      worker.on('error', onError('queue.worker_error'));
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
      const deadline = Date.now() + closeTimeoutMs;
      const waitFor = async (step: string, work: Promise<unknown>): Promise<void> => {
        const finished = await withDeadline(
          work.then(
            () => true,
            (err: unknown) => {
              logger.warn({ event: 'queue.close_failed', step, err }, 'closing the queue failed; disconnecting');
              return true;
            },
          ),
          Math.max(0, deadline - Date.now()),
          () => false,
        );
        if (!finished) logger.warn({ event: 'queue.close_timeout', step, timeoutMs: closeTimeoutMs }, 'gave up waiting; disconnecting');
      };
      if (worker) {
        // No job can be acknowledged while Redis is unreachable, so the worker stops without
        // waiting for it; running jobs still finish their database work (rows are the truth).
        await waitFor('worker', worker.close(outage.isFailing()));
        await waitFor('running jobs', Promise.allSettled(running));
      }
      await waitFor('queue', queue.close());
      // Connections we created are ours to close, whatever is still waiting on them.
      workerConnection?.disconnect();
      producer.disconnect();
    },
  };
}
