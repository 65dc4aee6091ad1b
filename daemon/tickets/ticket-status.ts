import type { Db } from '../../db/client.js';
import type { TicketStatus } from '../../db/schema.js';
import { addTicketEvent, findRequester, setTicketStatus, setTicketTags, type TicketRow } from '../../db/tickets.js';
import type { AutomationVerdict } from '../../parsers/auto-generated.js';
import { actionsOnEnter } from '../../rules/plan.js';
import type { Mailbox } from '../../rules/schema.js';
import { ticketTemplateValues } from '../../rules/templates/render-reply.js';
import { queueAutomaticMail, type AutomaticMailContext } from './automatic-mail.js';

/** A ticket after a change, and the mail the change put in the outbox (to enqueue after commit). */
export interface TicketChange {
  ticket: TicketRow;
  deliveryIds: number[];
}

/**
 * Adds and removes tags, recording an event per actual change; returns the ticket with its new
 * tags. `by`: who asked, when a person did (an API token's name), kept in the events.
 */
export async function updateTags(tx: Db, ticket: TicketRow, add: string[], remove: string[], by?: string): Promise<TicketRow> {
  const removed = ticket.tags.filter((tag) => remove.includes(tag));
  const kept = ticket.tags.filter((tag) => !remove.includes(tag));
  const added = [...new Set(add)].filter((tag) => !kept.includes(tag));
  if (removed.length === 0 && added.length === 0) return ticket;
  const next = [...kept, ...added];
  await setTicketTags(tx, ticket.id, next);
  const who = by === undefined ? {} : { by };
  for (const tag of added) await addTicketEvent(tx, ticket.id, 'tag.added', { tag, ...who });
  for (const tag of removed) await addTicketEvent(tx, ticket.id, 'tag.removed', { tag, ...who });
  return { ...ticket, tags: next };
}

/**
 * Moves a ticket to a status, records the event, and runs the rules' actions for entering it
 * (tags, notifications).
 */
export async function changeStatus(
  tx: Db,
  ctx: AutomaticMailContext,
  ticket: TicketRow,
  mailbox: Mailbox,
  to: TicketStatus,
  reason: string,
  cause: { automation: AutomationVerdict; inReplyTo: string | null; references: string[]; by?: string },
): Promise<TicketChange> {
  if (ticket.status === to) return { ticket, deliveryIds: [] };
  const from = ticket.status;
  await setTicketStatus(tx, ticket.id, to);
  await addTicketEvent(tx, ticket.id, 'status.changed', { from, to, reason, ...(cause.by === undefined ? {} : { by: cause.by }) });
  return enterStatus(tx, ctx, { ...ticket, status: to }, mailbox, cause);
}

/**
 * Runs the rules' actions for entering the ticket's status (tags, notifications): on a change of
 * status, and for a new ticket's first status.
 */
export async function enterStatus(
  tx: Db,
  ctx: AutomaticMailContext,
  entered: TicketRow,
  mailbox: Mailbox,
  cause: { automation: AutomationVerdict; inReplyTo: string | null; references: string[] },
): Promise<TicketChange> {
  let ticket = entered;
  const deliveryIds: number[] = [];
  let requester: Awaited<ReturnType<typeof findRequester>> | undefined;
  for (const action of actionsOnEnter(ctx.ruleSet, ticket.status)) {
    if ('add_tag' in action) ticket = await updateTags(tx, ticket, [action.add_tag], []);
    else if ('remove_tag' in action) ticket = await updateTags(tx, ticket, [], [action.remove_tag]);
    else {
      // read once, for however many notifications this status sends
      requester ??= await findRequester(tx, ticket);
      const recipient = action.notify === 'requester' ? (requester?.address ?? null) : action.notify;
      const { deliveryId } = await queueAutomaticMail(tx, ctx, {
        ticket,
        mailbox,
        kind: 'notification',
        template: { notification: action.template },
        recipient,
        automation: cause.automation,
        values: ticketTemplateValues(ctx.ruleSet, mailbox, ticket, requester),
        inReplyTo: cause.inReplyTo,
        references: cause.references,
      });
      if (deliveryId !== null) deliveryIds.push(deliveryId);
    }
  }
  return { ticket, deliveryIds };
}
