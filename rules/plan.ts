import type { Action, Mailbox, RuleSet, TicketStatusName } from './schema.js';
import type { Plan, TicketState, Verdict } from './verdict.js';

export const AWAITING_DETAILS_TAG = 'awaiting_details';
/** Details are missing but nobody is asking the customer for them (limit reached, request withheld). */
export const DETAILS_INCOMPLETE_TAG = 'details_incomplete';
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
    plan.events.push({ type: 'details.missing', data: { missing: verdict.missing.map((item) => item.id) } });
    if (state.detailRequests < ruleSet.auto_replies.max_detail_requests) {
      // `pending` says the ticket waits on the customer: true only once the request has gone
      // out, which the daemon confirms (planWithoutRequest when it could not).
      setStatus('pending');
      addTag(AWAITING_DETAILS_TAG);
      removeTag(DETAILS_INCOMPLETE_TAG);
      plan.reply = acknowledges ? 'acknowledgement_missing_details' : 'missing_details';
      return plan;
    }
    // Asked often enough: stop asking, an agent takes it from here. A new ticket (possible with
    // max_detail_requests 0) still gets its acknowledgement.
    plan.reply = acknowledges ? 'acknowledgement' : null;
    plan.events.push({ type: 'details.request_limit', data: { requests: state.detailRequests } });
    return notWaitingOnCustomer(plan, state, ruleSet, tags);
  }

  if (tags.has(AWAITING_DETAILS_TAG) || tags.has(DETAILS_INCOMPLETE_TAG)) {
    removeTag(AWAITING_DETAILS_TAG);
    removeTag(DETAILS_INCOMPLETE_TAG);
    setStatus('open');
    plan.events.push({ type: 'details.complete', data: {} });
  } else if (!state.isNew && REOPENED_BY_CUSTOMER.has(state.status)) {
    setStatus(ruleSet.status.on_customer_reply);
  }
  if (acknowledges) plan.reply = 'acknowledgement';
  return plan;
}

/**
 * The plan for a message that misses details when no request for them goes out: the ticket does
 * not wait on the customer. It is tagged `details_incomplete` for the agents; a new ticket stays
 * `new`, one that was waiting on the customer goes to `status.on_customer_reply`.
 */
function notWaitingOnCustomer(plan: Plan, state: TicketState, ruleSet: RuleSet, tags: ReadonlySet<string>): Plan {
  const addTags = plan.addTags.filter((tag) => tag !== AWAITING_DETAILS_TAG);
  if (!tags.has(DETAILS_INCOMPLETE_TAG) && !addTags.includes(DETAILS_INCOMPLETE_TAG)) addTags.push(DETAILS_INCOMPLETE_TAG);
  const removeTags = plan.removeTags.filter((tag) => tag !== DETAILS_INCOMPLETE_TAG);
  if (tags.has(AWAITING_DETAILS_TAG) && !removeTags.includes(AWAITING_DETAILS_TAG)) removeTags.push(AWAITING_DETAILS_TAG);
  const target = state.status === 'pending' ? ruleSet.status.on_customer_reply : state.status;
  return { ...plan, addTags, removeTags, status: target === state.status ? null : target };
}

/**
 * The plan once the daemon knows that the request for details it planned did not go out
 * (suppressed address, the sender asked for no automatic replies, a rate limit): no `pending`,
 * no `awaiting_details`; an event says why.
 */
export function planWithoutRequest(plan: Plan, state: TicketState, ruleSet: RuleSet, reason: string): Plan {
  const withheld: Plan = { ...plan, reply: null, events: [...plan.events, { type: 'details.request_withheld', data: { reason } }] };
  return notWaitingOnCustomer(withheld, state, ruleSet, new Set(state.tags));
}

/** The actions to run when a ticket enters `status` (`status.on_enter`), in file order. */
export function actionsOnEnter(ruleSet: RuleSet, status: TicketStatusName): Action[] {
  return [...(ruleSet.status.on_enter[status] ?? [])];
}
