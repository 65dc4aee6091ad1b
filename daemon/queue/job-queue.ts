/** Queue names, and the prefix of their job ids, in one place. */
export const QUEUES = {
  /** Spool row ids (with BullMQ, many to a job): parse, thread, evaluate rules. */
  inbound: { name: 'mailroom-inbound', job: 'inbound' },
  /** Delivery ids (with BullMQ, many to a job): send each through the relay or into the outbox folder. */
  outbound: { name: 'mailroom-outbound', job: 'delivery' },
} as const;
export type QueueSpec = (typeof QUEUES)[keyof typeof QUEUES];

/** What a worker does with one row id. Throwing asks the queue to retry later. */
export type JobHandler = (id: number) => Promise<void>;

/**
 * One interface for BullMQ (REDIS_URL) and the in-process queue. Jobs carry a row id only; the
 * row in the database is the truth, so a lost job is repaired by the sweeper.
 */
export interface JobQueue {
  readonly kind: 'bullmq' | 'in-process';
  /** Idempotent: enqueueing an id that is already waiting or running does nothing. */
  enqueue(id: number): Promise<void>;
  startWorker(handler: JobHandler, concurrency: number): void;
  /** Jobs waiting or delayed (not running). */
  depth(): Promise<number>;
  ping(): Promise<void>;
  /** Stops taking jobs, waits for running ones, releases connections. */
  close(): Promise<void>;
}

/** Retry schedule for transient failures: 1 s, 2 s, 4 s … capped at 60 s. */
export function retryDelayMs(attempt: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, attempt - 1));
}

/** Runs of a job beyond its rows' own attempts: on retryDelayMs, about nine minutes of outage. */
const OUTAGE_RUNS = 10;

/**
 * How many times the queue runs a job before leaving its rows to the sweeper. A row counts its
 * own attempts (`rowAttempts`, MAILROOM_MAX_ATTEMPTS) and its handler fails the row that used them
 * all; a job also fails while the database is unreachable, which costs its rows nothing. Had the
 * queue stopped at `rowAttempts` too, a ten-second outage could use up a job's runs and leave a
 * row the handler could not hand back in `processing`, untouched until the sweeper's lease ran out.
 */
export function jobAttempts(rowAttempts: number): number {
  return rowAttempts + OUTAGE_RUNS;
}

/** BullMQ refuses all-digit custom ids, and ':' is its key separator. */
export function jobId(spec: QueueSpec, id: number): string {
  return `${spec.job}-${id}`;
}
