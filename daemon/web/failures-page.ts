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

/**
 * The failed-messages log: who could not be reached, when, why, with filters and a CSV export,
 * and for agents a Resend button per recipient.
 */
export function failuresPage(
  rows: FailureRow[],
  query: FailureQuery,
  problem: string | null,
  options: { principal: Principal; csrf: string; resent?: { deliveryId: number; ticket: number } | null },
): string {
  const canResend = options.principal.role !== 'read';
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
${options.resent ? html`<p role="status" class="sent">Resent as delivery ${options.resent.deliveryId} on <a href="/tickets/${options.resent.ticket}">ticket #${options.resent.ticket}</a>.</p>` : ''}
<p><a href="/failures.csv${search ? `?${search}` : ''}" download>Export CSV</a></p>
${
  rows.length === 0
    ? html`<p>No failures match.</p>`
    : html`<table>
<caption class="meta">${rows.length} recipient(s), newest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Ticket</th><th scope="col">Recipient</th><th scope="col">Code</th><th scope="col">Reason</th><th scope="col" class="optional">Diagnostic</th>${canResend ? html`<th scope="col">Action</th>` : ''}</tr></thead>
<tbody>${rows.map((row) => {
        const r = failureRecord(row);
        return html`<tr><td><time datetime="${String(r.at)}">${String(r.at).slice(0, 16).replace('T', ' ')} UTC</time></td>
<td><a href="/tickets/${r.ticket}">#${r.ticket}</a> ${r.subject ?? ''}</td><td class="failed">${r.recipient}</td>
<td>${[r.replyCode, r.enhancedStatus].filter((x) => x !== null).join(' ')}</td><td>${r.reason ?? ''} ${r.hardOrSoft ? html`<span class="meta">(${r.hardOrSoft})</span>` : ''}</td>
<td class="optional meta">${r.diagnostic ?? ''}</td>
${canResend ? html`<td>${resendForm(r.deliveryId as number, r.recipient as string, options.csrf)}</td>` : ''}</tr>`;
      })}</tbody></table>`
}`;
  return page('Failures', body, options);
}

/** Resend to this row's recipient; lifting the address's suppression is the agent's explicit choice. */
function resendForm(deliveryId: number, recipient: string, csrf: string) {
  return html`<form method="post" action="/failures/resend" class="row-action">
<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="delivery" value="${deliveryId}"><input type="hidden" name="to" value="${recipient}">
<label class="inline"><input type="checkbox" name="unsuppress" value="1"> lift suppression</label>
<button type="submit" aria-label="Resend delivery ${deliveryId} to ${recipient}">Resend</button></form>`;
}
