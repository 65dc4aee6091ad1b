import type { Db } from '../../db/client.js';
import { listSuppressions, removeSuppression } from '../../db/bounces.js';
import { countInboundInState, listInbound } from '../../db/inbound.js';
import type { ApiServices } from '../http/api/services.js';
import { WATCHED_STATES, type OperationsView } from './operations-page.js';
import type { Principal } from './session.js';

/** Failed rows listed on the page; more are for `inbound list --state failed`. */
const FAILED_SHOWN = 100;

export type QueueDepths = () => Promise<Array<{ name: string; depth: number | null }>>;

export async function readOperationsView(db: Db, queueDepths: QueueDepths): Promise<OperationsView> {
  const [counts, failed, queues, suppressions] = await Promise.all([
    Promise.all(WATCHED_STATES.map(async (state) => [state, await countInboundInState(db, state)] as const)),
    listInbound(db, { state: 'failed', limit: FAILED_SHOWN }),
    queueDepths(),
    listSuppressions(db),
  ]);
  return { counts: Object.fromEntries(counts) as OperationsView['counts'], failed, queues, suppressions };
}

/** The notice or problem a redirect back to the page carries (values are escaped where shown). */
export function operationsNotice(params: URLSearchParams): { notice: string | null; problem: string | null } {
  const replayed = params.get('replayed');
  const removed = params.get('removed');
  const refused = params.get('notReplayed');
  return {
    notice: replayed && /^\d+$/.test(replayed) ? `Row ${replayed} queued for processing again.` : removed ? `${removed} removed from the suppression list.` : null,
    problem: refused && /^\d+$/.test(refused) ? `Row ${refused} cannot be replayed now.` : params.has('notSuppressed') ? 'That address is not suppressed.' : null,
  };
}

/**
 * A button of the page: replay a spool row (admin), lift a suppression (agent, admin). Answers
 * where to go back to, or why the token may not; null for a path that is not one of them.
 */
export async function operationsAction(path: string, form: URLSearchParams, principal: Principal, deps: { db: Db; services: ApiServices }): Promise<{ redirect: string } | { forbidden: string } | null> {
  const replay = /^\/operations\/spool\/(\d{1,12})\/replay$/.exec(path)?.[1];
  if (replay) {
    if (principal.role !== 'admin') return { forbidden: 'forbidden: replaying needs an admin token' };
    const result = await deps.services.replayInbound(Number(replay));
    return { redirect: result.replayed.length > 0 ? `/operations?replayed=${replay}` : `/operations?notReplayed=${replay}` };
  }
  if (path === '/operations/suppressions/remove') {
    if (principal.role === 'read') return { forbidden: 'forbidden: a read token cannot remove a suppression' };
    const address = form.get('address')?.trim() ?? '';
    const removed = address !== '' && (await removeSuppression(deps.db, address));
    return { redirect: removed ? `/operations?${new URLSearchParams({ removed: address.toLowerCase() }).toString()}` : '/operations?notSuppressed=1' };
  }
  return null;
}
