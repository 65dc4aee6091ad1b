import type { WebhookEvent } from '../../rules/webhook-schema.js';

/**
 * The ticket events each webhook event is made of. Agent replies are articles too (stored as the
 * outbound article of their delivery), and an unreadable mail is kept as an article of raw text;
 * an expired delivery failed as surely as a bounced one. `bounce.unmatched` comes from the
 * bounces table: an unmatched bounce belongs to no ticket.
 */
export const TICKET_EVENT_SOURCES: Readonly<Record<string, Exclude<WebhookEvent, 'bounce.unmatched'>>> = {
  'ticket.created': 'ticket.created',
  'article.added': 'article.added',
  'agent.replied': 'article.added',
  'message.parse_failed': 'article.added',
  'status.changed': 'status.changed',
  'details.missing': 'details.missing',
  'details.complete': 'details.complete',
  'delivery.failed': 'delivery.failed',
  'delivery.expired': 'delivery.failed',
};

/** The ticket event types that make up the webhook events a webhook follows. */
export function ticketEventTypesFor(follows: (event: WebhookEvent) => boolean): string[] {
  return Object.entries(TICKET_EVENT_SOURCES)
    .filter(([, event]) => follows(event))
    .map(([type]) => type);
}
