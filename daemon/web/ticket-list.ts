import type { TicketListItem } from '../../db/ticket-pages.js';
import { TICKET_STATUSES, type TicketStatus } from '../../db/schema.js';
import { html } from './html.js';
import { page } from './layout.js';
import type { Principal } from './session.js';

export interface TicketFilters {
  status?: TicketStatus;
  tag?: string;
  requester?: string;
}

/** The queue: counts per status, filters, the newest tickets first. */
export function ticketListPage(
  rows: TicketListItem[],
  counts: Partial<Record<TicketStatus, number>>,
  filters: TicketFilters,
  options: { principal: Principal; csrf: string },
): string {
  const countLinks = TICKET_STATUSES.map((status) => html`<li><a href="/tickets?status=${status}">${status}: ${counts[status] ?? 0}</a></li>`);
  const statusOptions = ['', ...TICKET_STATUSES].map((status) => html`<option value="${status}" ${filters.status === status || (!filters.status && !status) ? html`selected` : ''}>${status || 'any'}</option>`);
  const body = html`<h1>Tickets</h1>
<ul class="counts" aria-label="Tickets per status">${countLinks}</ul>
<form class="filters" method="get" action="/tickets" role="search">
  <label>Status <select name="status">${statusOptions}</select></label>
  <label>Tag <input name="tag" value="${filters.tag ?? ''}"></label>
  <label>Requester <input name="requester" type="email" value="${filters.requester ?? ''}"></label>
  <button type="submit">Filter</button>
</form>
${
  rows.length === 0
    ? html`<p>No tickets match.</p>`
    : html`<table>
  <caption class="meta">${rows.length} ticket(s), newest first</caption>
  <thead><tr><th scope="col">#</th><th scope="col">Subject</th><th scope="col">Status</th><th scope="col">Requester</th><th scope="col" class="optional">Tags</th><th scope="col" class="optional">Updated</th></tr></thead>
  <tbody>${rows.map(
    (row) => html`<tr>
    <td><a href="/tickets/${row.number}">${row.number}</a></td>
    <td><a href="/tickets/${row.number}">${row.subject || '(no subject)'}</a></td>
    <td>${row.status}</td>
    <td>${row.requester}</td>
    <td class="optional">${row.tags.map((tag) => html`<span class="tag">${tag}</span>`)}</td>
    <td class="optional"><time datetime="${row.updatedAt.toISOString()}">${row.updatedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC</time></td>
  </tr>`,
  )}</tbody>
</table>`
}`;
  return page('Tickets', body, options);
}
