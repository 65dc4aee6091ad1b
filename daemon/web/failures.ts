import { suppressionOf } from '../../db/bounces.js';
import { AppError } from '../errors.js';
import type { ApiServices } from '../http/api/services.js';
import { parseDateFilter, type FailureRow } from '../reports/failures.js';
import type { FailureQuery } from './failures-page.js';
import type { Principal } from './session.js';

/** Rows the page lists; the CSV export has the same. */
const FAILURES_SHOWN = 500;

export function failureQueryOf(params: URLSearchParams): FailureQuery {
  return { since: params.get('since') ?? '', until: params.get('until') ?? '', reason: params.get('reason')?.trim() ?? '', ticket: params.get('ticket')?.trim() ?? '' };
}

/** The failures the filters select, or why the filters cannot be read. */
export async function readFailures(services: ApiServices, query: FailureQuery): Promise<{ rows: FailureRow[]; problem: string | null }> {
  const since = parseDateFilter(query.since || undefined);
  const until = parseDateFilter(query.until || undefined);
  const ticket = /^\d{1,12}$/.test(query.ticket) ? Number(query.ticket) : undefined;
  const problem = since === 'invalid' || until === 'invalid' ? 'Dates look like 2026-11-21.' : query.ticket && ticket === undefined ? 'A ticket is a number.' : null;
  if (problem) return { rows: [], problem };
  const rows = await services.failures({ since: since as Date | undefined, until: until as Date | undefined, ticketNumber: ticket, reason: query.reason || undefined, limit: FAILURES_SHOWN });
  return { rows: rows.map(({ mark: _mark, ...row }) => row), problem: null };
}

/** The resend a redirect back to the page reports, when its values are ours (digits). */
export function resentNotice(params: URLSearchParams): { deliveryId: number; ticket: number } | null {
  const deliveryId = params.get('resent');
  const ticket = params.get('resentTicket');
  return deliveryId && ticket && /^\d{1,12}$/.test(deliveryId) && /^\d{1,12}$/.test(ticket) ? { deliveryId: Number(deliveryId), ticket: Number(ticket) } : null;
}

/**
 * A row's Resend button: the same resend as `POST /api/v1/deliveries/{id}/resend`, to that row's
 * recipient only (a delivery can have failed for several, each its own row). A suppressed address
 * goes out only when the agent ticked "lift suppression"; otherwise the refusal is the answer.
 */
export async function resendFromForm(form: URLSearchParams, principal: Principal, services: ApiServices): Promise<{ redirect: string } | { status: number; problem: string }> {
  const delivery = form.get('delivery') ?? '';
  const to = form.get('to')?.trim() ?? '';
  if (!/^\d{1,12}$/.test(delivery) || !to) return { status: 400, problem: 'The form names no delivery or recipient.' };
  const unsuppress = form.get('unsuppress') === '1';
  // The resend refuses this too, in the words of the command line; here the choice is a checkbox.
  const suppression = unsuppress ? null : await suppressionOf(services.db, to);
  if (suppression?.suppressed) return { status: 422, problem: `Not resent: ${to} is suppressed (${suppression.reason ?? 'no reason recorded'}). Tick "lift suppression" on its row to lift it and resend.` };
  try {
    const result = await services.resend(Number(delivery), { to, unsuppress, by: principal.name });
    return { redirect: `/failures?resent=${result.deliveryId}&resentTicket=${result.ticketNumber}` };
  } catch (err) {
    if (err instanceof AppError && err.code === 'RESEND_REFUSED') return { status: 422, problem: `Not resent: ${err.message}` };
    if (err instanceof AppError && err.code === 'NOT_FOUND') return { status: 404, problem: `Not resent: ${err.message}` };
    throw err;
  }
}
