import type { FailureFilter } from '../../../db/bounces.js';
import { listFailures } from '../../../db/bounces.js';
import type { Db } from '../../../db/client.js';
import { findInboundRaw, findInboundStandings, resetInboundForReplay } from '../../../db/inbound.js';
import type { InboundState, TicketStatus } from '../../../db/schema.js';
import type { RuleSet } from '../../../rules/schema.js';
import { AppError } from '../../errors.js';
import type { Metrics } from '../../metrics.js';
import { dryRunRules, type RulesDryRunResult } from '../../reports/rules-dry-run.js';
import type { RulesView } from '../../rules-store.js';
import { createAgentReply, type AgentReplyResult } from '../../tickets/agent-reply.js';
import { changeStatusByHand, changeTagsByHand, type ManualStatusResult } from '../../tickets/manual-status.js';
import { resendDelivery, type ResendResult } from '../../tickets/resend-delivery.js';

/**
 * The changes the API makes, each one transaction, its mail enqueued after the commit. `by`:
 * who asked (the token's name), kept in the ticket's events.
 */
export interface ApiServices {
  db: Db;
  reply(ticketNumber: number, input: { body: string; cc: string[]; status?: TicketStatus; by?: string }): Promise<AgentReplyResult>;
  changeStatus(ticketNumber: number, status: TicketStatus, by: string): Promise<ManualStatusResult>;
  changeTags(ticketNumber: number, add: string[], remove: string[], by: string): Promise<{ ticketNumber: number; tags: string[] }>;
  resend(deliveryId: number, input: { to?: string; unsuppress: boolean; reason?: string; by: string }): Promise<ResendResult>;
  failures(filter: FailureFilter): ReturnType<typeof listFailures>;
  /** `inbound replay` of one row: set back to received and queued, or why not (state null: no such row). */
  replayInbound(id: number): Promise<{ replayed: number[]; notReplayed: Array<{ id: number; state: InboundState | null }> }>;
  /** The rules in force and how the last edit of the file went. */
  rulesView(): RulesView;
  /** What the daemon would do with these bytes (`rules test`); nothing is stored or sent. NOT_FOUND: no such ticket or spool row. */
  dryRunRules(input: { raw: Buffer | { inboundId: number }; ticketNumber: number | null }): Promise<RulesDryRunResult>;
}

export function createApiServices(deps: { db: Db; rules: () => RuleSet; rulesView: () => RulesView; secret: string; metrics: Metrics; enqueueDelivery: (id: number) => void; enqueueInbound: (id: number) => void }): ApiServices {
  const { db, secret, metrics } = deps;
  return {
    db,
    reply: async (ticketNumber, input) => {
      const ruleSet = deps.rules();
      const result = await db.transaction((tx) => createAgentReply(tx, { ruleSet, secret, now: new Date(), metrics }, ticketNumber, input));
      for (const id of result.deliveryIds) deps.enqueueDelivery(id);
      return result;
    },
    changeStatus: async (ticketNumber, status, by) => {
      const ruleSet = deps.rules();
      const result = await db.transaction((tx) => changeStatusByHand(tx, { ruleSet, secret, now: new Date(), metrics }, ticketNumber, status, by));
      for (const id of result.deliveryIds) deps.enqueueDelivery(id);
      return result;
    },
    changeTags: (ticketNumber, add, remove, by) => db.transaction((tx) => changeTagsByHand(tx, ticketNumber, add, remove, by)),
    resend: async (deliveryId, input) => {
      const ruleSet = deps.rules();
      const result = await db.transaction((tx) => resendDelivery(tx, { ruleSet, secret }, deliveryId, input));
      deps.enqueueDelivery(result.deliveryId);
      return result;
    },
    failures: (filter) => listFailures(db, filter),
    replayInbound: async (id) => {
      const replayed = await resetInboundForReplay(db, { ids: [id] });
      for (const replayedId of replayed) deps.enqueueInbound(replayedId);
      return { replayed, notReplayed: replayed.length > 0 ? [] : [{ id, state: (await findInboundStandings(db, [id]))[0]?.state ?? null }] };
    },
    rulesView: deps.rulesView,
    dryRunRules: async ({ raw, ticketNumber }) => {
      const bytes = Buffer.isBuffer(raw) ? raw : await findInboundRaw(db, raw.inboundId);
      if (!bytes) throw new AppError('NOT_FOUND', `no spool row ${(raw as { inboundId: number }).inboundId}`);
      return dryRunRules({ ruleSet: deps.rules(), raw: bytes, ticketNumber, secret, now: new Date() }, (use) => use(db));
    },
  };
}
