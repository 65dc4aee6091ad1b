import type { Db } from '../../db/client.js';
import type { WebhookEventSource } from '../../db/schema.js';
import {
  advanceWebhookCursor,
  claimDueWebhookDeliveries,
  completedTransactionHorizon,
  insertWebhookDeliveries,
  readSourceEvents,
  recordWebhookAttempt,
  webhookCursor,
  type SourceEvent,
  type WebhookDeliveryRow,
} from '../../db/webhooks.js';
import { isSubscribed, type Webhook, type WebhookEvent } from '../../rules/webhook-schema.js';
import { createFailureStreak } from '../failure-streak.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { TICKET_EVENT_SOURCES, ticketEventTypesFor } from './event-types.js';
import { postWebhook } from './post-webhook.js';
import { nextWebhookAttempt, type WebhookRetrySchedule } from './retry-schedule.js';
import { signWebhookBody } from './sign-payload.js';

export interface WebhookDispatcherOptions extends WebhookRetrySchedule {
  /** How often new events are read and due rows sent. @defaultValue 1 s */
  pollIntervalMs: number;
  /** One POST gets this long to be answered. @defaultValue 10 s */
  timeoutMs: number;
}

export interface WebhookDispatcherDeps {
  db: Db;
  logger: Logger;
  metrics: Metrics;
  /** The webhooks of the rules in force (a reload changes them). */
  webhooks: () => readonly Webhook[];
  /** Reads `secret_env`; rules are pure and never see the environment. */
  environment: Readonly<Record<string, string | undefined>>;
  options: WebhookDispatcherOptions;
}

export interface WebhookDispatcher {
  /** Turns new events into outbox rows, then sends what is due. */
  pass(): Promise<void>;
  start(): void;
  /** Stops polling and abandons the POSTs under way: their rows stay pending and are sent again. */
  stop(): Promise<void>;
}

const READ_BATCH = 500;
const SEND_BATCH = 20;

/** The id receivers deduplicate by: the same for every try, every daemon and every webhook. */
export function webhookEventId(source: WebhookEventSource, id: number): string {
  return `${source === 'bounce' ? 'bounce' : 'evt'}_${id}`;
}

function payloadOf(event: SourceEvent, type: WebhookEvent): Record<string, unknown> {
  return {
    id: webhookEventId(event.source, event.id),
    type,
    createdAt: event.createdAt.toISOString(),
    ticket: event.ticket,
    // agent.replied and article.added are both article.added: say which it was
    ...(event.source === 'ticket_event' ? { sourceEvent: event.type } : {}),
    data: event.data,
  };
}

/**
 * The webhook outbox: follows ticket_events and bounces by writer transaction (db/schema.ts says
 * why not by id) with a cursor per webhook in the database, so a restart neither misses an event
 * nor adds one twice, and sends due rows at least once.
 */
export function createWebhookDispatcher(deps: WebhookDispatcherDeps): WebhookDispatcher {
  const { db, logger, metrics, options } = deps;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopping = false;
  let stopSending = new AbortController();
  const missingSecrets = new Set<string>();
  const failures = createFailureStreak(logger, {
    started: { event: 'webhook.pass_failed', msg: 'webhook pass failed; will try again' },
    repeated: { event: 'webhook.pass_failed_again', msg: 'webhook pass failed again' },
    ended: { event: 'webhook.pass_recovered', msg: 'webhook passes work again' },
  });

  const secretOf = (hook: Webhook): string | null => {
    const secret = hook.secret ?? (hook.secret_env ? deps.environment[hook.secret_env] : undefined);
    if (secret && secret.length >= 24) {
      missingSecrets.delete(hook.id);
      return secret;
    }
    // Rows keep accumulating and go out once the variable is set: nothing is lost meanwhile.
    if (!missingSecrets.has(hook.id)) {
      logger.error({ event: 'webhook.secret_missing', webhook: hook.id, variable: hook.secret_env }, 'webhook secret variable unset or shorter than 24 characters; its deliveries wait');
      missingSecrets.add(hook.id);
    }
    return null;
  };

  async function collect(hook: Webhook, source: WebhookEventSource, horizon: string, now: Date): Promise<void> {
    const follows = (event: WebhookEvent) => isSubscribed(hook, event);
    const types = source === 'bounce' ? [] : ticketEventTypesFor(follows);
    if (source === 'bounce' ? !follows('bounce.unmatched') : types.length === 0) return;
    let after = await webhookCursor(db, hook.id, source, horizon);
    for (;;) {
      const events = await readSourceEvents(db, source, { after, horizon, types, limit: READ_BATCH });
      await insertWebhookDeliveries(
        db,
        events.map((event) => {
          const type = source === 'bounce' ? 'bounce.unmatched' : TICKET_EVENT_SOURCES[event.type]!;
          return {
            webhookId: hook.id,
            eventSource: source,
            eventId: event.id,
            eventType: type,
            payload: payloadOf(event, type),
            nextAttemptAt: now,
            expiresAt: new Date(now.getTime() + options.maxAgeMs),
          };
        }),
      );
      const last = events.at(-1);
      // A short batch read everything below the horizon: the next read starts there.
      after = events.length === READ_BATCH && last ? { transactionId: last.transactionId, eventId: last.id } : { transactionId: horizon, eventId: 0 };
      await advanceWebhookCursor(db, hook.id, source, after);
      if (events.length < READ_BATCH) return;
    }
  }

  async function send(hook: Webhook, secret: string, row: WebhookDeliveryRow): Promise<void> {
    const body = JSON.stringify(row.payload);
    const eventId = String(row.payload.id);
    const outcome = await postWebhook(hook.url, body, { 'Mailroom-Event-Id': eventId, 'Mailroom-Signature': signWebhookBody(secret, body, new Date()) }, options.timeoutMs, stopSending.signal);
    // Stopping: the row keeps its lease and is sent again after it, by us or another daemon.
    if (stopping && !outcome.delivered) return;
    const at = new Date();
    const fields = { webhook: hook.id, deliveryId: row.id, eventId, type: row.eventType, attempt: row.attempts };
    if (outcome.delivered) {
      await recordWebhookAttempt(db, row.id, { state: 'delivered', statusCode: outcome.statusCode, at });
      metrics.webhookDeliveries.labels('delivered').inc();
      logger.info({ event: 'webhook.delivered', ...fields, statusCode: outcome.statusCode }, 'webhook delivered');
      return;
    }
    const next = nextWebhookAttempt(row.attempts, at, row.expiresAt, options);
    if (next === null) {
      await recordWebhookAttempt(db, row.id, { state: 'failed', statusCode: outcome.statusCode, error: outcome.error, at });
      metrics.webhookDeliveries.labels('failed').inc();
      logger.error({ event: 'webhook.failed', ...fields, statusCode: outcome.statusCode, error: outcome.error }, 'webhook delivery failed for good: its lifetime is over');
      return;
    }
    await recordWebhookAttempt(db, row.id, { state: 'pending', statusCode: outcome.statusCode, error: outcome.error, nextAttemptAt: next, at });
    metrics.webhookDeliveries.labels('retried').inc();
    // The first failure is news; the following ones of the same row are its retries going on.
    logger[row.attempts === 1 ? 'warn' : 'info']({ event: 'webhook.deferred', ...fields, statusCode: outcome.statusCode, error: outcome.error, nextAttemptAt: next.toISOString() }, 'webhook delivery failed; will retry');
  }

  async function pass(): Promise<void> {
    const hooks = deps.webhooks();
    if (hooks.length === 0) return;
    const now = new Date();
    const horizon = await completedTransactionHorizon(db);
    for (const hook of hooks) {
      for (const source of ['ticket_event', 'bounce'] as const) await collect(hook, source, horizon, now);
    }
    const sendable = new Map<string, { hook: Webhook; secret: string }>();
    for (const hook of hooks) {
      const secret = secretOf(hook);
      if (secret) sendable.set(hook.id, { hook, secret });
    }
    while (!stopping) {
      const claimedAt = new Date();
      // The lease outlasts a POST's timeout, so no other daemon takes a row still being sent.
      const rows = await claimDueWebhookDeliveries(db, [...sendable.keys()], claimedAt, new Date(claimedAt.getTime() + 2 * options.timeoutMs + 1000), SEND_BATCH);
      await Promise.all(
        rows.map((row) => {
          const { hook, secret } = sendable.get(row.webhookId)!;
          return send(hook, secret, row);
        }),
      );
      if (rows.length < SEND_BATCH) return;
    }
  }

  const runPass = (): Promise<void> => {
    running = (running ?? Promise.resolve()).catch(() => undefined).then(pass);
    return running;
  };

  const schedule = (): void => {
    if (stopping) return;
    timer = setTimeout(() => {
      runPass().then(
        () => failures.succeed(),
        (err: unknown) => failures.fail(err),
      ).finally(schedule);
    }, options.pollIntervalMs);
    timer.unref();
  };

  return {
    pass: runPass,
    start() {
      stopping = false;
      stopSending = new AbortController();
      schedule();
    },
    async stop() {
      stopping = true;
      if (timer) clearTimeout(timer);
      timer = null;
      stopSending.abort();
      await running?.catch(() => undefined);
    },
  };
}
