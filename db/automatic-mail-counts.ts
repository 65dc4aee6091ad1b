import { canonicalAddress, canonicalDomain } from '../parsers/addresses.js';
import type { Db } from './client.js';
import { fixedStatement, runFixed, type FixedStatement } from './fixed-statements.js';
import { AUTOMATIC_KINDS } from './schema.js';

/** A rate-limit window: automatic mail created after `since`, counted no further than `cap`. */
export interface CountWindow {
  since: Date;
  cap: number;
}

export interface AutomaticMailQuestion {
  ticketId: number | null;
  /** The automatic mail's recipient; null when there is none to count or look up. */
  recipient: string | null;
  /** Make the recipient a known contact (as the mail to them would), in the same statement. */
  rememberRecipient: boolean;
  perTicket: CountWindow[];
  perRecipient: CountWindow[];
  perDomain: CountWindow[];
  total: CountWindow[];
  /**
   * Draw the ids of the delivery and its article that the mail would get (allocateDeliveryIds),
   * sparing their own statement; a mail then withheld leaves a gap in both sequences.
   */
  drawDeliveryIds: boolean;
}

export interface AutomaticMailAnswer {
  perTicket: number[];
  perRecipient: number[];
  perDomain: number[];
  total: number[];
  /** Whether any address of the recipient's mailbox is suppressed, and the first reason. */
  suppressed: boolean;
  reason: string | null;
  ids: { deliveryId: number; articleId: number } | null;
}

/*
 * Every count a rate limit asks for, the recipient's suppression and, if asked, the recipient
 * made a known contact: one statement, where they were seven, each parsed, planned and executed
 * on its own. A window is counted only up to its max: whether it is full is all that is asked,
 * and an uncapped count of a busy hour reads every row of it for every mail. The statement's
 * text depends only on how many windows the rules have and which parts are asked, so it is
 * written once for each such shape (askStatementFor) and the driver prepares it once.
 * The recipient's lock (takeRecipientLock) must be taken by an earlier statement: a statement
 * sees what was committed when it started.
 */
export async function askAutomaticMail(db: Db, question: AutomaticMailQuestion): Promise<AutomaticMailAnswer> {
  const canonical = question.recipient ? canonicalAddress(question.recipient) : null;
  const facts: QuestionFacts = {
    question,
    canonical,
    domain: canonical ? canonicalDomain(canonical) : null,
    remember: question.rememberRecipient && question.recipient !== null && canonical !== null,
  };
  const statement = askStatementFor(facts);
  const [row] = await runFixed<Record<string, number | string | boolean | null>>(
    db,
    statement,
    statement.parameters.map((parameter) => parameter(facts)),
  );
  const counts = (name: string, windows: CountWindow[]) => windows.map((_, i) => Number(row?.[`${name}_${i}`] ?? 0));
  return {
    perTicket: counts('ticket', question.perTicket),
    perRecipient: counts('recipient', question.perRecipient),
    perDomain: counts('domain', question.perDomain),
    total: counts('total', question.total),
    suppressed: row?.suppressed === true,
    reason: typeof row?.suppression === 'string' ? row.suppression : null,
    ids: question.drawDeliveryIds && row ? { deliveryId: Number(row.delivery_id), articleId: Number(row.article_id) } : null,
  };
}

interface QuestionFacts {
  question: AutomaticMailQuestion;
  canonical: string | null;
  domain: string | null;
  remember: boolean;
}

type AskStatement = FixedStatement & { parameters: Array<(facts: QuestionFacts) => unknown> };

/** The statement's text for each shape of question (how many windows, which parts asked), built on first use. */
const askStatements = new Map<string, AskStatement>();

const AUTOMATIC_KIND_LIST = AUTOMATIC_KINDS.map((kind) => `'${kind.replaceAll("'", "''")}'`).join(', ');

function askStatementFor(facts: QuestionFacts): AskStatement {
  const { question } = facts;
  const shape = [
    question.perTicket.length,
    question.perRecipient.length,
    question.perDomain.length,
    question.total.length,
    question.ticketId !== null,
    facts.canonical !== null,
    facts.domain !== null,
    facts.remember,
    question.drawDeliveryIds,
  ].join(',');
  let statement = askStatements.get(shape);
  if (!statement) {
    statement = buildAskStatement(facts);
    askStatements.set(shape, statement);
  }
  return statement;
}

/** Writes the statement for the shape of `facts`, with the list of what goes in each of its parameters. */
function buildAskStatement(facts: QuestionFacts): AskStatement {
  const parameters: Array<(facts: QuestionFacts) => unknown> = [];
  const parameter = (value: (facts: QuestionFacts) => unknown, cast: string) => {
    parameters.push(value);
    return `$${parameters.length}::${cast}`;
  };
  const toRecipients = 'delivery_recipients r join deliveries d on d.id = r.delivery_id';
  const columns: string[] = [];
  const add = (name: string, windows: (q: AutomaticMailQuestion) => CountWindow[], from: string, where: (() => string) | null) =>
    windows(facts.question).forEach((_, i) => {
      if (where === null) {
        columns.push(`0 as ${name}_${i}`);
        return;
      }
      const condition = where();
      const since = parameter((f) => windows(f.question)[i]!.since, 'timestamptz');
      const cap = parameter((f) => windows(f.question)[i]!.cap, 'int');
      columns.push(
        `(select count(*) from (select 1 from ${from} where ${condition} and d.kind in (${AUTOMATIC_KIND_LIST}) and d.created_at > ${since} limit ${cap}) capped)::int as ${name}_${i}`,
      );
    });
  // Each registered where the text first uses it: a parameter the text never uses has no type.
  const once = (register: () => string) => {
    let placeholder: string | null = null;
    return () => (placeholder ??= register());
  };
  const ticket = once(() => parameter((f) => f.question.ticketId, 'bigint'));
  const canonical = once(() => parameter((f) => f.canonical, 'text'));
  const domain = once(() => parameter((f) => f.domain, 'text'));
  add('ticket', (q) => q.perTicket, 'deliveries d', facts.question.ticketId === null ? null : () => `d.ticket_id = ${ticket()}`);
  add('recipient', (q) => q.perRecipient, toRecipients, facts.canonical === null ? null : () => `r.canonical_address = ${canonical()}`);
  add('domain', (q) => q.perDomain, toRecipients, facts.domain === null ? null : () => `r.canonical_domain = ${domain()}`);
  add('total', (q) => q.total, 'deliveries d', () => 'true');
  columns.push(facts.canonical === null ? 'null::text as suppression, false as suppressed' : 's.suppression_reason as suppression, s.suppressed is not null as suppressed');
  if (facts.question.drawDeliveryIds) columns.push(`nextval('deliveries_id_seq')::bigint as delivery_id, nextval('articles_id_seq')::bigint as article_id`);
  const suppression =
    facts.canonical === null
      ? ''
      : ` left join lateral (select c.suppression_reason, true as suppressed from contacts c where c.canonical_address = ${canonical()} and c.suppressed_at is not null limit 1) s on true`;
  const remember = facts.remember
    ? `with remembered as (insert into contacts (address, canonical_address) values (${parameter((f) => f.question.recipient!.toLowerCase(), 'text')}, ${canonical()}) on conflict do nothing) `
    : '';
  return { ...fixedStatement(`${remember}select ${columns.join(', ')} from (select 1) one${suppression}`), parameters };
}
