import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { packageVersion } from './cli/version.js';

/** Every Prometheus metric mailroom exports, on one registry per daemon (tests run several). */
export function createMetrics() {
  const registry = new Registry();
  // prom-client's names already start with process_ or nodejs_: mailroom_process_cpu_seconds_total.
  collectDefaultMetrics({ register: registry, prefix: 'mailroom_' });
  const metric = {
    received: new Counter({ name: 'mailroom_messages_received_total', help: 'Messages stored in the spool and acknowledged with 250', registers: [registry] }),
    refused: new Counter({ name: 'mailroom_smtp_refused_total', help: 'SMTP refusals by reply code', labelNames: ['code'] as const, registers: [registry] }),
    processed: new Counter({ name: 'mailroom_messages_processed_total', help: 'Spool rows processed into tickets or bounces', registers: [registry] }),
    ignored: new Counter({ name: 'mailroom_messages_ignored_total', help: 'Spool rows ignored, by reason', labelNames: ['reason'] as const, registers: [registry] }),
    suspended: new Counter({ name: 'mailroom_messages_suspended_total', help: 'Spool rows suspended (kept aside, no ticket, no mail), by reason', labelNames: ['reason'] as const, registers: [registry] }),
    suspendedNow: new Gauge({ name: 'mailroom_suspended_messages', help: 'Spool rows waiting in suspension for an operator (absent when the database did not answer)', registers: [registry] }),
    failed: new Counter({ name: 'mailroom_messages_failed_total', help: 'Spool rows marked failed (kept for replay)', registers: [registry] }),
    processingSeconds: new Histogram({
      name: 'mailroom_processing_seconds',
      help: 'From the 250 to the end of processing',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    autoReplies: new Counter({ name: 'mailroom_auto_replies_total', help: 'Automatic mails queued, by kind', labelNames: ['kind'] as const, registers: [registry] }),
    autoRepliesWithheld: new Counter({ name: 'mailroom_auto_replies_withheld_total', help: 'Automatic mails not sent, by reason', labelNames: ['reason'] as const, registers: [registry] }),
    bounces: new Counter({ name: 'mailroom_bounces_total', help: 'Failed or delayed recipients reported by bounces, by reason', labelNames: ['reason'] as const, registers: [registry] }),
    outbound: new Counter({ name: 'mailroom_outbound_recipients_total', help: 'Outbound recipients by send result: sent (to the relay), written (outbox folder), failed (refused at RCPT), deferred, expired', labelNames: ['result'] as const, registers: [registry] }),
    webhookDeliveries: new Counter({ name: 'mailroom_webhook_deliveries_total', help: 'Webhook POSTs by result: delivered (2xx), retried (to be tried again), failed (lifetime over)', labelNames: ['result'] as const, registers: [registry] }),
    webhookPending: new Gauge({ name: 'mailroom_webhook_deliveries_pending', help: 'Webhook deliveries waiting to be sent (absent when the database did not answer)', registers: [registry] }),
    relayUp: new Gauge({ name: 'mailroom_relay_up', help: 'Whether the last transaction with MAILROOM_SMTP_RELAY went through (1) or failed as a whole (0)', registers: [registry] }),
    // Read at scrape time with a deadline: a reading that fails or times out is left out, never shown stale.
    queueDepth: new Gauge({ name: 'mailroom_queue_depth', help: 'Jobs waiting, by queue; with Redis a job can carry many rows (absent when the queue did not answer)', labelNames: ['queue'] as const, registers: [registry] }),
    queueUp: new Gauge({ name: 'mailroom_queue_up', help: 'Whether the queue answered a ping within 2 s (1) or not (0)', labelNames: ['queue'] as const, registers: [registry] }),
    oldestUnprocessed: new Gauge({ name: 'mailroom_oldest_unprocessed_age_seconds', help: 'Age of the oldest spool row not yet processed (absent when the database did not answer)', registers: [registry] }),
    spoolFailedRows: new Gauge({ name: 'mailroom_spool_failed_rows', help: 'Spool rows in state failed, kept for replay (absent when the database did not answer)', registers: [registry] }),
    rulesReloadSuccess: new Gauge({ name: 'mailroom_rules_last_reload_success', help: 'Whether the last load of the rules file was accepted (1) or rejected, the last good rules serving (0)', registers: [registry] }),
    rulesReloadTimestamp: new Gauge({ name: 'mailroom_rules_last_reload_timestamp_seconds', help: 'When the rules file was last loaded, accepted or not (Unix time)', registers: [registry] }),
    buildInfo: new Gauge({ name: 'mailroom_build_info', help: 'Always 1; the labels say which mailroom and Node.js run', labelNames: ['version', 'node'] as const, registers: [registry] }),
  };
  metric.buildInfo.labels(packageVersion(), process.version).set(1);
  return { registry, ...metric };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** The label of an ignored row's reason, without the unbounded parts (`duplicate of article 7`). */
export function ignoredReasonLabel(reason: string): string {
  if (reason.startsWith('duplicate')) return 'duplicate';
  return reason.slice(0, 40);
}

/** The counters a filing transaction adds to: what it queued, withheld, and read in a bounce. */
export type FilingCounters = Pick<Metrics, 'autoReplies' | 'autoRepliesWithheld' | 'bounces'>;

/**
 * Counters for one filing transaction that reach the registry only when `commit` is called, after
 * the transaction committed: a transaction rolled back and run again (a failed batch filed one by
 * one, a retry) would otherwise count its mails twice.
 */
export function countedAtCommit(metrics: Metrics): { counters: FilingCounters; commit(): void } {
  const pending: Array<() => void> = [];
  const deferred = <K extends keyof FilingCounters>(name: K): FilingCounters[K] =>
    ({
      labels: (label: string) => ({ inc: () => void pending.push(() => metrics[name].labels(label).inc()) }),
    }) as unknown as FilingCounters[K];
  return {
    counters: { autoReplies: deferred('autoReplies'), autoRepliesWithheld: deferred('autoRepliesWithheld'), bounces: deferred('bounces') },
    commit: () => {
      for (const add of pending.splice(0)) add();
    },
  };
}
