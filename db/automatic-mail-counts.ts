import { sql, type SQL } from 'drizzle-orm';
import { canonicalAddress, canonicalDomain } from '../parsers/addresses.js';
import type { Db } from './client.js';
import { resultRows } from './result-rows.js';
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
 * text depends only on how many windows the rules have, so the driver prepares it once.
 * The recipient's lock (takeRecipientLock) must be taken by an earlier statement: a statement
 * sees what was committed when it started.
 */
export async function askAutomaticMail(db: Db, question: AutomaticMailQuestion): Promise<AutomaticMailAnswer> {
  const kinds = sql.join(
    AUTOMATIC_KINDS.map((kind) => sql`${kind}`),
    sql`, `,
  );
  const canonical = question.recipient ? canonicalAddress(question.recipient) : null;
  const domain = canonical ? canonicalDomain(canonical) : null;
  const capped = (window: CountWindow, from: SQL, where: SQL) =>
    sql`(select count(*) from (select 1 from ${from} where ${where} and d.kind in (${kinds}) and d.created_at > ${window.since.toISOString()}::timestamptz limit ${window.cap}) capped)::int`;
  const toRecipients = sql`delivery_recipients r join deliveries d on d.id = r.delivery_id`;
  const columns: SQL[] = [];
  const add = (name: string, windows: CountWindow[], from: SQL, where: SQL | null) =>
    windows.forEach((window, i) => columns.push(where === null ? sql`0 as ${sql.identifier(`${name}_${i}`)}` : sql`${capped(window, from, where)} as ${sql.identifier(`${name}_${i}`)}`));
  add('ticket', question.perTicket, sql`deliveries d`, question.ticketId === null ? null : sql`d.ticket_id = ${question.ticketId}`);
  add('recipient', question.perRecipient, toRecipients, canonical === null ? null : sql`r.canonical_address = ${canonical}`);
  add('domain', question.perDomain, toRecipients, domain === null ? null : sql`r.canonical_domain = ${domain}`);
  add('total', question.total, sql`deliveries d`, sql`true`);
  columns.push(
    canonical === null
      ? sql`null::text as suppression, false as suppressed`
      : sql`s.suppression_reason as suppression, s.suppressed is not null as suppressed`,
  );
  if (question.drawDeliveryIds) columns.push(sql`nextval('deliveries_id_seq')::bigint as delivery_id, nextval('articles_id_seq')::bigint as article_id`);
  const suppression =
    canonical === null
      ? sql``
      : sql` left join lateral (select c.suppression_reason, true as suppressed from contacts c where c.canonical_address = ${canonical} and c.suppressed_at is not null limit 1) s on true`;
  const remember =
    question.rememberRecipient && question.recipient && canonical
      ? sql`with remembered as (insert into contacts (address, canonical_address) values (${question.recipient.toLowerCase()}, ${canonical}) on conflict do nothing) `
      : sql``;
  const [row] = resultRows<Record<string, number | string | boolean | null>>(
    await db.execute(sql`${remember}select ${sql.join(columns, sql`, `)} from (select 1) one${suppression}`),
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
