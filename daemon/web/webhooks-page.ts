import type { WebhookDeliveryRow } from '../../db/webhooks.js';
import { webhookDeliveryRecord, type webhookSummary } from '../reports/webhook-records.js';
import { html } from './html.js';
import { page } from './layout.js';
import type { Principal } from './session.js';

export interface WebhooksView {
  webhooks: Array<ReturnType<typeof webhookSummary> & { recent: WebhookDeliveryRow[] }>;
}

const utc = (iso: string | null) => (iso ? html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>` : '');

/**
 * The webhooks of the rules file (admin only): each with its deliveries per state and the recent
 * ones, a failed one with a Retry button. Never a secret; the URL is shown, as to admins only.
 */
export function webhooksPage(view: WebhooksView, options: { principal: Principal; csrf: string; notice?: string | null; problem?: string | null }): string {
  const body = html`<h1>Webhooks</h1>
${options.notice ? html`<p role="status" class="sent">${options.notice}</p>` : ''}
${options.problem ? html`<p role="alert" class="error">${options.problem}</p>` : ''}
${view.webhooks.length === 0 ? html`<p>No webhooks in the rules file.</p>` : ''}
${view.webhooks.map(
  (hook) => html`<section aria-labelledby="hook-${hook.id}"><h2 id="hook-${hook.id}">${hook.id}</h2>
<p class="meta"><span class="url">${hook.url}</span> · events ${hook.events.join(', ')}</p>
<p>Pending <strong>${hook.pending}</strong> · delivered <strong>${hook.delivered}</strong> · failed <strong class="${hook.failed > 0 ? 'failed' : ''}">${hook.failed}</strong>
${hook.lastError ? html` · last error ${utc(hook.lastErrorAt)} <span class="meta">${hook.lastError}</span>` : ''}</p>
${
  hook.recent.length === 0
    ? html`<p>No deliveries yet.</p>`
    : html`<table><caption class="meta">The ${hook.recent.length} most recent deliveries</caption>
<thead><tr><th scope="col">#</th><th scope="col">Event</th><th scope="col">Ticket</th><th scope="col">State</th><th scope="col">Tries</th><th scope="col" class="optional">Last answer</th><th scope="col">Next try / delivered</th><th scope="col">Action</th></tr></thead><tbody>
${hook.recent.map(webhookDeliveryRecord).map(
  (d) => html`<tr><td>${d.id}</td><td>${d.type} <span class="meta">${d.eventId}</span></td><td>${d.ticket === null ? '' : html`<a href="/tickets/${d.ticket}">#${d.ticket}</a>`}</td>
<td class="${d.state === 'failed' ? 'failed' : d.state === 'delivered' ? 'sent' : ''}">${d.state}</td><td>${d.attempts}</td>
<td class="optional meta">${d.lastError ?? (d.lastStatusCode === null ? '' : `HTTP ${d.lastStatusCode}`)}</td><td>${utc(d.deliveredAt ?? d.nextAttemptAt)}</td>
<td>${d.state === 'failed' ? html`<form method="post" action="/webhooks/deliveries/${d.id}/retry"><input type="hidden" name="csrf" value="${options.csrf}"><button type="submit" aria-label="Retry delivery ${d.id}">Retry</button></form>` : ''}</td></tr>`,
)}</tbody></table>`
}</section>`,
)}`;
  return page('Webhooks', body, options);
}
