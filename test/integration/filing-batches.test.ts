import { readFileSync } from 'node:fs';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RULES_FILE } from '../../daemon/config.js';
import { articles, deliveries, inboundMessages } from '../../db/schema.js';
import { realMode } from '../helpers/mode.js';
import { ticketOfInbound, waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

/*
 * Rows that become ready while filing transactions are busy are filed together in the next one.
 * A trigger the test adds holds the first transactions open (SLOW in the subject) so that the
 * next mails must wait and share a batch, and makes one of them fail in the database (POISON):
 * the batch is rolled back, its rows are filed again one by one, and only the poisoned mail fails.
 */
let t: TestApp;
beforeAll(async () => {
  // 8 workers: 2 filing transactions at once, 6 more rows ready meanwhile.
  // The example rules: every new mail gets an acknowledgement or a request for details. Senders
  // are trusted: a sender check that times out on a loaded machine would file a mail restricted,
  // without its mail, and the comparison below is about batches, not sender checks.
  const rules = `${readFileSync(DEFAULT_RULES_FILE, 'utf8')}\nsecurity:\n  unverified_sender: trust\n`;
  t = await startTestApp({ rules, env: { MAILROOM_WORKER_CONCURRENCY: '8', MAILROOM_MAX_ATTEMPTS: '1' } });
  await t.db.execute(sql`
    create function test_hold_or_poison() returns trigger language plpgsql as $$
    begin
      if new.direction = 'inbound' and new.subject like '%SLOW%' then perform pg_sleep(0.8); end if;
      if new.direction = 'inbound' and new.subject like '%POISON%' then raise exception 'poisoned article: %', new.subject; end if;
      return new;
    end $$`);
  await t.db.execute(sql`create trigger test_hold_or_poison before insert on articles for each row execute function test_hold_or_poison()`);
  // LATE-FAULT fails at the last step of filing, when its automatic mail is already queued.
  await t.db.execute(sql`
    create function test_late_poison() returns trigger language plpgsql as $$
    begin
      if new.state = 'processed' and position('LATE-FAULT'::bytea in new.raw) > 0 then raise exception 'poisoned at the end'; end if;
      return new;
    end $$`);
  await t.db.execute(sql`create trigger test_late_poison before update on inbound_messages for each row execute function test_late_poison()`);
});
afterAll(async () => {
  await t?.close();
});

const mail = (k: number, subject: string) => {
  // A domain each: the rules' per-domain limit must not tell the mails apart.
  const from = `batch${k}@client${k}.example`;
  return t.send({ from, to: ['soporte@example.com'] }, rawMessage({ from, subject, body: `Mail ${k}: the export button does nothing since yesterday.` }));
};

describe('filing mail in batches', () => {
  it('fails a poisoned mail alone: the rest of its batch is filed, once each, with the same mail as when filed alone', async () => {
    const holders = await Promise.all([0, 1, 2, 3].map((k) => mail(k, `SLOW holder ${k}`)));
    // Sent while the holders' transactions sleep: these wait, then go together.
    const batch = await Promise.all([4, 5, 6, 7].map((k) => mail(k, k === 5 ? `POISON ${k}` : `Batch ${k}`)));
    const ids = [...holders, ...batch].map(queuedId);
    const rows = await Promise.all(ids.map((id) => waitForInbound(t, id, 30_000)));

    const poisoned = rows[5]!;
    expect(poisoned.state).toBe('failed');
    expect(poisoned.lastError).toContain('poisoned article: POISON 5');
    const filed = rows.filter((_, i) => i !== 5);
    expect(filed.map((row) => row.state)).toEqual(Array(7).fill('processed'));

    // The batch really was one: it failed as a whole, then its rows went one by one. PGlite runs
    // one transaction at a time and the waiting rows' own queries queue behind the holders, so
    // which rows meet in a batch there is up to timing (test/daemon/filing-batches.test.ts pins it).
    if (realMode) {
      const failedBatch = await waitFor(() => t.logs.events('filing.batch_failed').find((line) => (line.rows as number) >= 2), 'a failed batch of several rows');
      expect(JSON.stringify(failedBatch.err)).toContain('poisoned article');
    }

    // Each mail once: one inbound article per row, and as many automatic mails as a mail filed alone gets.
    const control = await waitForInbound(t, queuedId(await mail(8, 'Batch control alone')), 30_000);
    const mailsOf = async (ticketId: number) => (await t.db.select({ id: deliveries.id }).from(deliveries).where(eq(deliveries.ticketId, ticketId))).length;
    const expected = await mailsOf((await ticketOfInbound(t, control)).id);
    expect(expected).toBeGreaterThanOrEqual(1);
    for (const row of filed) {
      const inbound = await t.db.select({ id: articles.id }).from(articles).where(eq(articles.inboundId, row.id));
      expect(inbound).toHaveLength(1);
      expect(await mailsOf((await ticketOfInbound(t, row)).id)).toBe(expected);
    }
    const stored = await t.db.select({ state: inboundMessages.state }).from(inboundMessages).where(eq(inboundMessages.id, poisoned.id));
    expect(stored).toEqual([{ state: 'failed' }]);

  }, 60_000);

  it('counts the automatic mails of a transaction that was rolled back once, when they are filed again', async () => {
    const autoRepliesCounted = async () => {
      const metrics = await (await fetch(`http://127.0.0.1:${t.httpPort}/metrics`)).text();
      return [...metrics.matchAll(/^mailroom_auto_replies_total\{[^}]*\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
    };
    const deliveriesStored = async () => (await t.db.select({ id: deliveries.id }).from(deliveries)).length;
    const countedBefore = await autoRepliesCounted();
    const storedBefore = await deliveriesStored();
    const holders = await Promise.all([10, 11, 12, 13].map((k) => mail(k, `SLOW holder ${k}`)));
    const batch = await Promise.all([14, 15, 16, 17].map((k) => mail(k, k === 15 ? `LATE-FAULT ${k}` : `Batch ${k}`)));
    const rows = await Promise.all([...holders, ...batch].map(queuedId).map((id) => waitForInbound(t, id, 30_000)));
    expect(rows[5]!.state).toBe('failed');
    expect(rows[5]!.lastError).toContain('poisoned at the end');
    // Every other mail got its automatic mail, and the metric counts each once: not the ones its
    // rolled-back batch queued, nor the one of the mail that failed.
    const stored = (await deliveriesStored()) - storedBefore;
    expect(stored).toBeGreaterThanOrEqual(7);
    expect((await autoRepliesCounted()) - countedBefore, 'mailroom_auto_replies_total against the deliveries stored').toBe(stored);
  }, 60_000);
});
