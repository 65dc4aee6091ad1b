/** Queue and job names in one place (STYLE §4). */
export const QUEUES = { inbound: 'mailroom-inbound' } as const;

/** What a worker does with one spool row. Throwing asks the queue to retry later. */
export type InboundHandler = (inboundId: number) => Promise<void>;

/**
 * One interface for BullMQ (REDIS_URL) and the in-process queue. Jobs carry the spool id only;
 * the spool row in the database is the truth, so a lost job is repaired by the sweeper.
 */
export interface JobQueue {
  readonly kind: 'bullmq' | 'in-process';
  /** Idempotent: enqueueing an id that is already waiting or running does nothing. */
  enqueue(inboundId: number): Promise<void>;
  startWorker(handler: InboundHandler, concurrency: number): void;
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

/** BullMQ refuses all-digit custom ids, and ':' is its key separator. */
export function inboundJobId(inboundId: number): string {
  return `inbound-${inboundId}`;
}
