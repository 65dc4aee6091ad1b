import type { InboundSummary } from '../../db/inbound.js';
import type { InboundState } from '../../db/schema.js';
import { html } from './html.js';
import { page } from './layout.js';
import type { Principal } from './session.js';

/** The spool states an operator watches; `receiving` is a message still arriving, seldom worth a look. */
export const WATCHED_STATES = ['received', 'processing', 'processed', 'ignored', 'failed', 'suspended'] as const satisfies readonly InboundState[];

export interface OperationsView {
  counts: Record<(typeof WATCHED_STATES)[number], number>;
  failed: InboundSummary[];
  /** Null depth: the queue did not answer in time. */
  queues: Array<{ name: string; depth: number | null }>;
  suppressions: Array<{ address: string; suppressedAt: Date | null; reason: string | null }>;
}

const utc = (at: Date | null) => (at ? html`<time datetime="${at.toISOString()}">${at.toISOString().slice(0, 16).replace('T', ' ')} UTC</time>` : '');

/**
 * How the mail is flowing: spool rows per state with the failed ones to replay (admin), the queue
 * depths, and the suppressed addresses to lift (agent and admin). A read token sees no buttons.
 */
export function operationsPage(view: OperationsView, options: { principal: Principal; csrf: string; notice?: string | null; problem?: string | null }): string {
  const canReplay = options.principal.role === 'admin';
  const canRemove = options.principal.role !== 'read';
  const csrfField = html`<input type="hidden" name="csrf" value="${options.csrf}">`;
  const body = html`<h1>Operations</h1>
${options.notice ? html`<p role="status" class="sent">${options.notice}</p>` : ''}
${options.problem ? html`<p role="alert" class="error">${options.problem}</p>` : ''}
<section aria-labelledby="spool"><h2 id="spool">Spool</h2>
<table><thead><tr>${WATCHED_STATES.map((state) => html`<th scope="col">${state}</th>`)}</tr></thead>
<tbody><tr>${WATCHED_STATES.map((state) => html`<td data-state="${state}">${view.counts[state]}</td>`)}</tr></tbody></table>
<h3>Failed rows</h3>
${
  view.failed.length === 0
    ? html`<p>None.</p>`
    : html`<table><thead><tr><th scope="col">Row</th><th scope="col">Received</th><th scope="col">Envelope sender</th><th scope="col">Error</th>${canReplay ? html`<th scope="col">Action</th>` : ''}</tr></thead><tbody>
${view.failed.map(
  (row) => html`<tr><td>${row.id}</td><td>${utc(row.receivedAt)}</td><td>${row.mailFrom || '<>'}</td><td class="meta">${row.lastError ?? ''}</td>
${canReplay ? html`<td><form method="post" action="/operations/spool/${row.id}/replay">${csrfField}<button type="submit" aria-label="Replay row ${row.id}">Replay</button></form></td>` : ''}</tr>`,
)}</tbody></table>`
}</section>
<section aria-labelledby="queues"><h2 id="queues">Queues</h2>
<table><thead><tr><th scope="col">Queue</th><th scope="col">Jobs waiting</th></tr></thead><tbody>
${view.queues.map((q) => html`<tr><td>${q.name}</td><td>${q.depth === null ? html`<span class="error">not answering</span>` : q.depth}</td></tr>`)}
</tbody></table></section>
<section aria-labelledby="suppressions"><h2 id="suppressions">Suppressed addresses</h2>
${
  view.suppressions.length === 0
    ? html`<p>None.</p>`
    : html`<table><thead><tr><th scope="col">Address</th><th scope="col">Since</th><th scope="col">Reason</th>${canRemove ? html`<th scope="col">Action</th>` : ''}</tr></thead><tbody>
${view.suppressions.map(
  (s) => html`<tr><td>${s.address}</td><td>${utc(s.suppressedAt)}</td><td>${s.reason ?? ''}</td>
${canRemove ? html`<td><form method="post" action="/operations/suppressions/remove">${csrfField}<input type="hidden" name="address" value="${s.address}"><button type="submit" aria-label="Remove ${s.address}">Remove</button></form></td>` : ''}</tr>`,
)}</tbody></table>`
}</section>`;
  return page('Operations', body, options);
}
