import { failureRecord, type FailureRow } from '../reports/failures.js';
import { html } from './html.js';
import { page } from './layout.js';
import type { Principal } from './session.js';

export interface FailureQuery {
  since: string;
  until: string;
  reason: string;
  ticket: string;
}

/** The failed-messages log: who could not be reached, when, why, with filters and a CSV export. */
export function failuresPage(rows: FailureRow[], query: FailureQuery, problem: string | null, options: { principal: Principal; csrf: string }): string {
  const search = new URLSearchParams(Object.entries(query).filter(([, value]) => value !== '')).toString();
  const body = html`<h1>Delivery failures</h1>
<form class="filters" method="get" action="/failures" role="search">
  <label>From date <input name="since" type="date" value="${query.since}"></label>
  <label>Before date <input name="until" type="date" value="${query.until}"></label>
  <label>Reason <input name="reason" value="${query.reason}" placeholder="userunknown"></label>
  <label>Ticket <input name="ticket" inputmode="numeric" value="${query.ticket}"></label>
  <button type="submit">Filter</button>
</form>
${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
<p><a href="/failures.csv${search ? `?${search}` : ''}" download>Export CSV</a></p>
${
  rows.length === 0
    ? html`<p>No failures match.</p>`
    : html`<table>
<caption class="meta">${rows.length} recipient(s), newest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Ticket</th><th scope="col">Recipient</th><th scope="col">Code</th><th scope="col">Reason</th><th scope="col" class="optional">Diagnostic</th></tr></thead>
<tbody>${rows.map((row) => {
        const r = failureRecord(row);
        return html`<tr><td><time datetime="${String(r.at)}">${String(r.at).slice(0, 16).replace('T', ' ')} UTC</time></td>
<td><a href="/tickets/${r.ticket}">#${r.ticket}</a> ${r.subject ?? ''}</td><td class="failed">${r.recipient}</td>
<td>${[r.replyCode, r.enhancedStatus].filter((x) => x !== null).join(' ')}</td><td>${r.reason ?? ''} ${r.hardOrSoft ? html`<span class="meta">(${r.hardOrSoft})</span>` : ''}</td>
<td class="optional meta">${r.diagnostic ?? ''}</td></tr>`;
      })}</tbody></table>`
}`;
  return page('Failures', body, options);
}
