import type { WebhookDeliveryCounts, WebhookDeliveryRow } from '../../db/webhooks.js';
import type { Webhook } from '../../rules/webhook-schema.js';

/**
 * A configured webhook with its deliveries per state, as `webhooks list --json` prints it and
 * `GET /api/v1/webhooks` answers. Never its secret: only the URL (which only admins are shown).
 */
export function webhookSummary(hook: Webhook, counts: WebhookDeliveryCounts | undefined) {
  return {
    id: hook.id,
    url: hook.url,
    events: hook.events,
    pending: counts?.pending ?? 0,
    delivered: counts?.delivered ?? 0,
    failed: counts?.failed ?? 0,
    lastError: counts?.lastError ?? null,
    lastErrorAt: counts?.lastErrorAt?.toISOString() ?? null,
  };
}

/** One outbox row, as `webhooks log --json` prints it and the API answers. */
export function webhookDeliveryRecord(row: WebhookDeliveryRow) {
  return {
    id: row.id,
    eventId: String(row.payload.id),
    type: row.eventType,
    ticket: (row.payload.ticket as { number?: number } | null)?.number ?? null,
    state: row.state,
    attempts: row.attempts,
    lastStatusCode: row.lastStatusCode,
    lastError: row.lastError,
    createdAt: row.createdAt.toISOString(),
    // Only a pending row is due again; on the others the column is what it was last.
    nextAttemptAt: row.state === 'pending' ? row.nextAttemptAt.toISOString() : null,
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
  };
}
