import type { FailureFilter } from '../../../db/bounces.js';
import { listFailures } from '../../../db/bounces.js';
import type { Db } from '../../../db/client.js';
import { findInboundRaw, findInboundStandings, resetInboundForReplay } from '../../../db/inbound.js';
import type { InboundState, TicketStatus, WebhookDeliveryState } from '../../../db/schema.js';
import { getWebhookDelivery, listWebhookDeliveries, retryFailedWebhookDelivery, webhookDeliveryCounts, type WebhookDeliveryRow } from '../../../db/webhooks.js';
import type { RuleSet } from '../../../rules/schema.js';
import { AppError } from '../../errors.js';
import type { Metrics } from '../../metrics.js';
import { dryRunRules, type RulesDryRunResult } from '../../reports/rules-dry-run.js';
import { webhookSummary } from '../../reports/webhook-records.js';
import type { RulesView } from '../../rules-store.js';
import { createAgentReply, type AgentReplyResult } from '../../tickets/agent-reply.js';
import { addInternalNote, type InternalNote } from '../../tickets/internal-note.js';
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
  /** A note for agents only: an event on the ticket, never mailed. NOT_FOUND: no such ticket. */
  addNote(ticketNumber: number, text: string, by: string): Promise<InternalNote>;
  resend(deliveryId: number, input: { to?: string; unsuppress: boolean; reason?: string; by: string }): Promise<ResendResult>;
  /** The rules' webhooks, each with its deliveries per state and the last error. */
  webhooks(): Promise<Array<ReturnType<typeof webhookSummary>>>;
  /** A webhook's deliveries, newest first; null for a webhook neither in the rules nor in the outbox. */
  webhookDeliveries(webhookId: string, filter: { state?: WebhookDeliveryState; beforeId?: number; limit: number }): Promise<WebhookDeliveryRow[] | null>;
  /** One failed delivery pending again with a new lifetime (`webhooks retry` for one row); null: no such delivery. */
  retryWebhookDelivery(id: number): Promise<{ retried: WebhookDeliveryRow } | { notFailed: WebhookDeliveryState } | null>;
  failures(filter: FailureFilter): ReturnType<typeof listFailures>;
  /** `inbound replay` of one row: set back to received and queued, or why not (state null: no such row). */
  replayInbound(id: number): Promise<{ replayed: number[]; notReplayed: Array<{ id: number; state: InboundState | null }> }>;
  /** The rules in force and how the last edit of the file went. */
  rulesView(): RulesView;
  /** What the daemon would do with these bytes (`rules test`); nothing is stored or sent. NOT_FOUND: no such ticket or spool row. */
  dryRunRules(input: { raw: Buffer | { inboundId: number }; ticketNumber: number | null }): Promise<RulesDryRunResult>;
}

export function createApiServices(deps: {
  db: Db;
  rules: () => RuleSet;
  rulesView: () => RulesView;
  secret: string;
  metrics: Metrics;
  enqueueDelivery: (id: number) => void;
  enqueueInbound: (id: number) => void;
  /** A retried webhook delivery's new lifetime (MAILROOM_WEBHOOK_MAX_AGE). */
  webhookMaxAgeMs: number;
}): ApiServices {
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
    addNote: (ticketNumber, text, by) => db.transaction((tx) => addInternalNote(tx, ticketNumber, text, by)),
    resend: async (deliveryId, input) => {
      const ruleSet = deps.rules();
      const result = await db.transaction((tx) => resendDelivery(tx, { ruleSet, secret }, deliveryId, input));
      deps.enqueueDelivery(result.deliveryId);
      return result;
    },
    failures: (filter) => listFailures(db, filter),
    webhooks: async () => {
      const counts = await webhookDeliveryCounts(db);
      return deps.rules().webhooks.map((hook) => webhookSummary(hook, counts.get(hook.id)));
    },
    webhookDeliveries: async (webhookId, { limit, ...filter }) => {
      // A webhook removed from the rules keeps its log, as `webhooks log` shows it.
      const known = deps.rules().webhooks.some((hook) => hook.id === webhookId) || (await listWebhookDeliveries(db, webhookId, 1)).length > 0;
      return known ? listWebhookDeliveries(db, webhookId, limit, filter) : null;
    },
    retryWebhookDelivery: async (id) => {
      const now = new Date();
      const retried = await retryFailedWebhookDelivery(db, id, now, new Date(now.getTime() + deps.webhookMaxAgeMs));
      if (retried) return { retried };
      const row = await getWebhookDelivery(db, id);
      return row ? { notFailed: row.state } : null;
    },
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
