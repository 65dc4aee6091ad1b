import { describe, it, expect } from 'vitest';
import { loadRuleSet } from '../../rules/load.js';
import { actionsOnEnter, planTicketUpdate } from '../../rules/plan.js';
import type { Mailbox, RuleSet, TicketStatusName } from '../../rules/schema.js';
import type { Plan, TicketState, Verdict } from '../../rules/verdict.js';

function load(text: string): RuleSet {
  const result = loadRuleSet(text, 'plan.yaml');
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return result.ruleSet;
}

const ruleSet = load(`
mailboxes:
  - address: soporte@example.com
    name: Soporte
    language: es
  - address: silencio@example.com
    name: Silencio
    language: es
    acknowledge: false
message: { max_length: 100 }
status:
  on_enter:
    solved:
      - notify: requester
        template: resuelto
      - remove_tag: awaiting_details
    pending:
      - add_tag: esperando
templates:
  es:
    acknowledgement: { subject: a, body: a }
    missing_details: { subject: b, body: b }
    acknowledgement_missing_details: { subject: c, body: c }
    sensitive_warning: { subject: d, body: d }
    notifications:
      resuelto: { subject: e, body: e }
`);
const ACK = ruleSet.mailboxes[0]!;
const QUIET = ruleSet.mailboxes[1]!;

function verdict(parts: { missing?: string[]; sensitive?: string[]; lengthProblem?: Verdict['lengthProblem'] } = {}): Verdict {
  return {
    language: 'es',
    category: null,
    slaHours: null,
    slaDueAt: null,
    responseTime: null,
    found: {},
    fields: {},
    missing: (parts.missing ?? []).map((id) => ({ id, label: id, hint: '' })),
    lengthProblem: parts.lengthProblem ?? null,
    sensitive: (parts.sensitive ?? []).map((id) => ({ id, label: id, inText: true, attachmentIndexes: [] })),
    redactedVisibleText: '',
  };
}

const NEW: TicketState = { isNew: true, status: 'new', tags: [], detailRequests: 0 };
const reply = (status: TicketStatusName, tags: string[] = [], detailRequests = 0): TicketState => ({ isNew: false, status, tags, detailRequests });
const plan = (parts: Partial<Plan>): Plan => ({ status: null, addTags: [], removeTags: [], reply: null, sensitiveWarning: false, events: [], ...parts });

describe('planTicketUpdate', () => {
  it.each<[string, Verdict, TicketState, Mailbox, Plan]>([
    ['acknowledges a complete new ticket and leaves it new', verdict(), NEW, ACK, plan({ reply: 'acknowledgement' })],
    ['sends nothing for a complete new ticket when acknowledge is off', verdict(), NEW, QUIET, plan({})],
    [
      'asks a new ticket for missing details in one combined acknowledgement',
      verdict({ missing: ['cuenta', 'cuando'] }),
      NEW,
      ACK,
      plan({
        status: 'pending',
        addTags: ['awaiting_details'],
        reply: 'acknowledgement_missing_details',
        events: [{ type: 'details.missing', data: { missing: ['cuenta', 'cuando'] } }],
      }),
    ],
    [
      'asks for missing details without an acknowledgement when acknowledge is off',
      verdict({ missing: ['cuenta'] }),
      NEW,
      QUIET,
      plan({ status: 'pending', addTags: ['awaiting_details'], reply: 'missing_details', events: [{ type: 'details.missing', data: { missing: ['cuenta'] } }] }),
    ],
    [
      'reopens a ticket when a reply completes the details, removing the tag',
      verdict(),
      reply('pending', ['vip', 'awaiting_details'], 1),
      ACK,
      plan({ status: 'open', removeTags: ['awaiting_details'], events: [{ type: 'details.complete', data: {} }] }),
    ],
    [
      'asks again when a reply still misses details, without re-adding the tag or status',
      verdict({ missing: ['cuenta'] }),
      reply('pending', ['awaiting_details'], 1),
      ACK,
      plan({ reply: 'missing_details', events: [{ type: 'details.missing', data: { missing: ['cuenta'] } }] }),
    ],
    [
      'stops asking once the request limit is reached: the ticket no longer waits on the customer',
      verdict({ missing: ['cuenta'] }),
      reply('pending', ['awaiting_details'], 2),
      ACK,
      plan({
        status: 'open',
        addTags: ['details_incomplete'],
        removeTags: ['awaiting_details'],
        events: [
          { type: 'details.missing', data: { missing: ['cuenta'] } },
          { type: 'details.request_limit', data: { requests: 2 } },
        ],
      }),
    ],
    [
      'moves a solved ticket still missing details back to pending',
      verdict({ missing: ['cuenta'] }),
      reply('solved', [], 0),
      ACK,
      plan({ status: 'pending', addTags: ['awaiting_details'], reply: 'missing_details', events: [{ type: 'details.missing', data: { missing: ['cuenta'] } }] }),
    ],
    [
      'tags, warns and records sensitive data, alongside a missing-details request',
      verdict({ missing: ['cuenta'], sensitive: ['contrasena', 'base_datos'] }),
      NEW,
      ACK,
      plan({
        status: 'pending',
        addTags: ['sensitive_data', 'awaiting_details'],
        reply: 'acknowledgement_missing_details',
        sensitiveWarning: true,
        events: [
          { type: 'sensitive.detected', data: { ids: ['contrasena', 'base_datos'] } },
          { type: 'details.missing', data: { missing: ['cuenta'] } },
        ],
      }),
    ],
    [
      'warns again without re-adding a sensitive_data tag the ticket has',
      verdict({ sensitive: ['contrasena'] }),
      reply('open', ['sensitive_data']),
      ACK,
      plan({ sensitiveWarning: true, events: [{ type: 'sensitive.detected', data: { ids: ['contrasena'] } }] }),
    ],
    [
      'records a too-long message without asking for anything',
      verdict({ lengthProblem: 'too_long' }),
      NEW,
      ACK,
      plan({ reply: 'acknowledgement', events: [{ type: 'message.too_long', data: { maxLength: 100 } }] }),
    ],
  ])('%s', (_behaviour, given, state, mailbox, expected) => {
    expect(planTicketUpdate(given, state, ruleSet, mailbox)).toEqual(expected);
  });

  it('still acknowledges a new ticket when no detail request is allowed at all', () => {
    const noRequests = load('mailboxes:\n  - address: a@example.com\n    name: A\nauto_replies:\n  max_detail_requests: 0\n');
    expect(planTicketUpdate(verdict({ missing: ['cuenta'] }), NEW, noRequests, noRequests.mailboxes[0]!)).toEqual(
      plan({
        addTags: ['details_incomplete'],
        reply: 'acknowledgement',
        events: [
          { type: 'details.missing', data: { missing: ['cuenta'] } },
          { type: 'details.request_limit', data: { requests: 0 } },
        ],
      }),
    );
  });

  it.each<[TicketStatusName, TicketStatusName | null]>([
    ['pending', 'open'],
    ['solved', 'open'],
    ['open', null],
    ['new', null],
    ['on_hold', null],
    ['closed', null],
  ])('on a customer reply moves a %s ticket to %s', (status, expected) => {
    expect(planTicketUpdate(verdict(), reply(status), ruleSet, ACK)).toEqual(plan({ status: expected }));
  });

  it('follows status.on_customer_reply for the reopening status', () => {
    const custom = load('mailboxes:\n  - address: a@example.com\n    name: A\nstatus:\n  on_customer_reply: new\n');
    expect(planTicketUpdate(verdict(), reply('solved'), custom, custom.mailboxes[0]!).status).toBe('new');
    expect(planTicketUpdate(verdict(), reply('pending', [], 0), load('mailboxes:\n  - address: a@example.com\n    name: A\nstatus:\n  on_customer_reply: pending\n'), custom.mailboxes[0]!).status).toBeNull();
  });
});

describe('actionsOnEnter', () => {
  it.each<[TicketStatusName, unknown[]]>([
    ['solved', [{ notify: 'requester', template: 'resuelto' }, { remove_tag: 'awaiting_details' }]],
    ['pending', [{ add_tag: 'esperando' }]],
    ['open', []],
  ])('lists the actions for entering %s in file order', (status, actions) => {
    expect(actionsOnEnter(ruleSet, status)).toEqual(actions);
  });
});
