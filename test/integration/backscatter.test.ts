import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suppressContact } from '../../db/bounces.js';
import { ticketDetail, ticketOfInbound, waitForInbound } from '../helpers/queries.js';
import { queuedId } from '../helpers/smtp-client.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';

/*
 * Forged mail makes mailroom write to a victim. Limits and suppression must count the victim's
 * mailbox, however its address is spelled, and its domain; and our mail must not carry the
 * attacker's text.
 */
const RULES = `mailboxes:
  - address: soporte@example.com
    name: Soporte
    language: en
auto_replies:
  per_ticket: [{ minutes: 60, max: 5 }]
  per_recipient: [{ minutes: 60, max: 2 }]
  per_domain: [{ minutes: 60, max: 3 }]
  total: [{ minutes: 60, max: 12 }]
templates:
  en:
    acknowledgement: { subject: "Received: {{subject}}", body: "Dear {{customer_name}}, ticket {{ticket_number}}." }
    missing_details: { subject: "Details: {{subject}}", body: "x" }
    acknowledgement_missing_details: { subject: "Received: {{subject}}", body: "x" }
    sensitive_warning: { subject: "Careful", body: "x" }
`;

let sink: SmtpSink;
let t: TestApp;
beforeAll(async () => {
  sink = await startSmtpSink();
  t = await startTestApp({ rules: RULES, env: { MAILROOM_SMTP_RELAY: sink.url } });
});
afterAll(async () => {
  await t?.close();
  await sink?.close();
});

/** A forged mail in the victim's name: each one opens its own ticket. Returns the withheld reason, if any. */
async function forge(from: string, subject = 'Hello'): Promise<string | null> {
  const envelope = /<([^>]+)>/.exec(from)?.[1] ?? from;
  const sent = await t.send({ from: envelope.replace(/"/g, ''), to: ['soporte@example.com'] }, rawMessage({ from, subject }));
  const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(sent)));
  const withheld = (await ticketDetail(t, ticket.id)).events.find((e) => e.type === 'auto_reply.withheld');
  return (withheld?.data as { reason?: string } | undefined)?.reason ?? null;
}

describe('backscatter', () => {
  it('counts every spelling of one mailbox against one per-recipient limit', async () => {
    const reasons = [];
    for (const from of ['target@victim.example', 'Target+a@victim.example', '<"target"@victim.example>', 'TARGET+b@Victim.Example', 'target+c@victim.example']) reasons.push(await forge(from));
    expect(reasons).toEqual([null, null, 'rate_limit_recipient', 'rate_limit_recipient', 'rate_limit_recipient']);
  });

  it("folds Gmail's dots and its second domain", async () => {
    const reasons = [];
    for (const from of ['john.smith@gmail.com', 'johnsmith@googlemail.com', 'J.o.h.n.Smith+x@gmail.com']) reasons.push(await forge(from));
    expect(reasons).toEqual([null, null, 'rate_limit_recipient']);
  });

  it('caps what one domain receives, whatever the addresses', async () => {
    const reasons = [];
    for (const local of ['a', 'b', 'c', 'd', 'e']) reasons.push(await forge(`${local}@victim2.example`));
    expect(reasons).toEqual([null, null, null, 'rate_limit_domain', 'rate_limit_domain']);
  });

  it('takes a suppression for every spelling of the address', async () => {
    await suppressContact(t.db, 'gone@victim3.example', 'hard bounce: 550 5.1.1 userunknown');
    expect(await forge('<"gone"@victim3.example>')).toBe('suppressed');
    expect(await forge('Gone+x@VICTIM3.example')).toBe('suppressed');
  });

  it('repeats at most 150 characters of a subject and 64 of a name', async () => {
    const subject = 'A'.repeat(5000);
    const sent = await t.send({ from: 'long@victim4.example', to: ['soporte@example.com'] }, rawMessage({ from: `"${'N'.repeat(500)}" <long@victim4.example>`, subject }));
    await waitForInbound(t, queuedId(sent));
    const mail = await (async () => {
      for (let i = 0; i < 100; i += 1) {
        const found = sink.mails.find((m) => m.rcptTo.includes('long@victim4.example'));
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error('no acknowledgement');
    })();
    expect(mail.message.subject.length).toBeLessThanOrEqual(170);
    expect(mail.message.subject).toContain('…');
    expect(mail.message.text).not.toContain('N'.repeat(65));
  });

  // Runs last: it fills the window every other test shares.
  it('stops all automatic mail once the total window is full, counting exactly to its max', async () => {
    const reasons: Array<string | null> = [];
    for (let i = 0; i < 14 && !reasons.includes('rate_limit_total'); i += 1) reasons.push(await forge(`customer${i}@total${i}.example`));
    expect(reasons.at(-1)).toBe('rate_limit_total');
    const automatic = await t.db.execute(sql`select count(*)::int as n from deliveries where kind <> 'agent_reply'`);
    const rows = Array.isArray(automatic) ? automatic : (automatic as { rows: Array<{ n: number }> }).rows;
    expect(Number(rows[0]!.n)).toBe(12);
    expect(await forge('one-more@total-late.example')).toBe('rate_limit_total');
  });
});
