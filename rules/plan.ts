import type { Action, Mailbox, RuleSet, TicketStatusName } from './schema.js';
import type { Plan, TicketState, Verdict } from './verdict.js';

export const AWAITING_DETAILS_TAG = 'awaiting_details';
export const SENSITIVE_DATA_TAG = 'sensitive_data';

/**
 * A customer's reply reopens a ticket that was waiting on them or considered done; it leaves
 * alone a ticket nobody has picked up yet (`new`), one already `open`, one an agent put
 * `on_hold` (waiting on a third party, which a customer's "any news?" does not change) and a
 * `closed` one (final: threading opens a follow-up instead). This is what mailroom did before
 * rules existed (pending/solved → open), with the target taken from `status.on_customer_reply`.
 */
const REOPENED_BY_CUSTOMER: ReadonlySet<TicketStatusName> = new Set(['pending', 'solved']);

/**
 * Turns a verdict into changes on the ticket and the one reply to send, before loop and rate
 * limit checks. Never adds a tag the ticket has, removes one it lacks, or "changes" the status
 * to the one it is already in.
 */
export function planTicketUpdate(verdict: Verdict, state: TicketState, ruleSet: RuleSet, mailbox: Mailbox): Plan {
  const tags = new Set(state.tags);
  const plan: Plan = { status: null, addTags: [], removeTags: [], reply: null, sensitiveWarning: false, events: [] };
  const addTag = (tag: string) => {
    if (!tags.has(tag) && !plan.addTags.includes(tag)) plan.addTags.push(tag);
  };
  const removeTag = (tag: string) => {
    if (tags.has(tag) && !plan.removeTags.includes(tag)) plan.removeTags.push(tag);
  };
  const setStatus = (status: TicketStatusName) => {
    plan.status = status === state.status ? null : status;
  };
  const acknowledges = state.isNew && mailbox.acknowledge;

  if (verdict.sensitive.length > 0) {
    addTag(SENSITIVE_DATA_TAG);
    plan.sensitiveWarning = true;
    plan.events.push({ type: 'sensitive.detected', data: { ids: verdict.sensitive.map((finding) => finding.id) } });
  }

  if (verdict.lengthProblem === 'too_long') {
    // Not a missing detail (see evaluateRules); recorded so agents know why the text is long.
    plan.events.push({ type: 'message.too_long', data: { maxLength: ruleSet.message.max_length ?? null } });
  }

  if (verdict.missing.length > 0) {
    setStatus('pending');
    addTag(AWAITING_DETAILS_TAG);
    plan.events.push({ type: 'details.missing', data: { missing: verdict.missing.map((item) => item.id) } });
    if (state.detailRequests < ruleSet.auto_replies.max_detail_requests) {
      plan.reply = acknowledges ? 'acknowledgement_missing_details' : 'missing_details';
    } else {
      // Asked often enough: stop nagging, an agent takes it from here. A new ticket (possible
      // with max_detail_requests 0) still gets its acknowledgement.
      plan.reply = acknowledges ? 'acknowledgement' : null;
      plan.events.push({ type: 'details.request_limit', data: { requests: state.detailRequests } });
    }
    return plan;
  }

  if (tags.has(AWAITING_DETAILS_TAG)) {
    removeTag(AWAITING_DETAILS_TAG);
    setStatus('open');
    plan.events.push({ type: 'details.complete', data: {} });
  } else if (!state.isNew && REOPENED_BY_CUSTOMER.has(state.status)) {
    setStatus(ruleSet.status.on_customer_reply);
  }
  if (acknowledges) plan.reply = 'acknowledgement';
  return plan;
}

/** The actions to run when a ticket enters `status` (`status.on_enter`), in file order. */
export function actionsOnEnter(ruleSet: RuleSet, status: TicketStatusName): Action[] {
  return [...(ruleSet.status.on_enter[status] ?? [])];
}
