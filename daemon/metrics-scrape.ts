import type { Gauge } from 'prom-client';
import type { Db } from '../db/client.js';
import { countInboundInState, oldestUnprocessedAt } from '../db/inbound.js';
import { countSuspended } from '../db/suspended.js';
import { countPendingWebhookDeliveries } from '../db/webhooks.js';
import { PROBE_DEADLINE_MS, withDeadline } from './deadline.js';
import type { Metrics } from './metrics.js';
import type { JobQueue } from './queue/job-queue.js';
import type { RulesStore } from './rules-store.js';

export interface ScrapeSources {
  metrics: Metrics;
  db: Db;
  queues: ReadonlyArray<{ name: string; queue: JobQueue }>;
  rules: RulesStore;
}

/** `read()`'s answer, or null when it failed or did not come within the probe deadline. */
function readWithin<T>(read: () => Promise<T>): Promise<T | null> {
  const answer = read().catch(() => null);
  return withDeadline(answer, PROBE_DEADLINE_MS, () => null);
}

/** A reading that failed leaves its gauge out: a missing value is true, a stale or 0 one is not. */
function show(gauge: Gauge, value: number | null): void {
  if (value === null) gauge.remove();
  else gauge.set(value);
}

/**
 * The /metrics body. Every read of a dependency runs at once and gets the probe deadline, so the
 * answer comes within about 2 s whatever hangs: a queue that does not answer is `up` 0 with no
 * depth, a database that does not answer leaves its gauges out.
 */
export function createMetricsScrape(sources: ScrapeSources): () => Promise<{ contentType: string; body: string }> {
  const { metrics, db } = sources;
  return async () => {
    const queueReads = sources.queues.map(async ({ name, queue }) => {
      const [up, depth] = await Promise.all([readWithin(() => queue.ping().then(() => true)), readWithin(() => queue.depth())]);
      metrics.queueUp.labels(name).set(up ? 1 : 0);
      if (depth === null) metrics.queueDepth.remove(name);
      else metrics.queueDepth.labels(name).set(depth);
    });
    const databaseReads = Promise.all([
      readWithin(() => countSuspended(db)),
      readWithin(() => countInboundInState(db, 'failed')),
      readWithin(() => countPendingWebhookDeliveries(db)),
      readWithin(async () => {
        const at = await oldestUnprocessedAt(db);
        return at ? Math.max(0, (Date.now() - at.getTime()) / 1000) : 0;
      }),
    ]);
    await Promise.all(queueReads);
    const [suspended, failed, webhookPending, oldest] = await databaseReads;
    show(metrics.suspendedNow, suspended);
    show(metrics.spoolFailedRows, failed);
    show(metrics.webhookPending, webhookPending);
    show(metrics.oldestUnprocessed, oldest);
    const reload = sources.rules.lastReload();
    metrics.rulesReloadSuccess.set(reload.ok ? 1 : 0);
    metrics.rulesReloadTimestamp.set(reload.at.getTime() / 1000);
    return { contentType: metrics.registry.contentType, body: await metrics.registry.metrics() };
  };
}
