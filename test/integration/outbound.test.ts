import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { eq } from 'drizzle-orm';
import { contacts } from '../../db/schema.js';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listTicketDeliveries } from '../../db/deliveries.js';
import { ticketDetail, ticketOfInbound, waitForInbound } from '../helpers/queries.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

/** Minimal rules: one mailbox, an acknowledgement for every new ticket. */
function rulesFor(address: string): string {
  return `mailboxes:
  - address: ${address}
    name: Desk
    language: en
templates:
  en:
    acknowledgement: { subject: "Received: {{subject}}", body: "Ticket {{ticket_number}}." }
    missing_details: { subject: "Details: {{subject}}", body: "{{#missing}}- {{label}}\\n{{/missing}}" }
    acknowledgement_missing_details: { subject: "Received: {{subject}}", body: "{{#missing}}- {{label}}\\n{{/missing}}" }
    sensitive_warning: { subject: "Careful", body: "Never send {{#sensitive}}{{label}}{{/sensitive}}." }
`;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function appWithSink(address: string, env: Record<string, string> = {}): Promise<{ t: TestApp; sink: SmtpSink }> {
  const sink = await startSmtpSink();
  // The queue's clock, shrunk: retries from 200 ms, found by a sweeper that looks every 100 ms.
  const quickQueue = { MAILROOM_OUTBOUND_RETRY_MIN: '200ms', MAILROOM_OUTBOUND_RETRY_MAX: '1s', MAILROOM_SWEEP_INTERVAL_MS: '100' };
  const t = await startTestApp({ rules: rulesFor(address), env: { MAILROOM_SMTP_RELAY: sink.url, ...quickQueue, ...env } });
  cleanups.push(() => sink.close(), () => t.close());
  return { t, sink };
}

describe('outbound mail', () => {
  it('writes an .eml file to the outbox folder when no relay is configured', async () => {
    const t = await startTestApp({ rules: rulesFor('desk@example.com') });
    cleanups.push(() => t.close());
    const result = await t.send({ from: 'ana@client.example', to: ['desk@example.com'] }, rawMessage({ from: 'ana@client.example', to: 'desk@example.com', subject: 'Hello' }));
    const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(result)));
    const file = await waitFor(() => {
      try {
        return readdirSync(t.config.outboxDir).find((name) => name.endsWith('.eml'));
      } catch {
        return undefined;
      }
    }, 'an .eml file in the outbox');
    const eml = readFileSync(path.join(t.config.outboxDir, file), 'utf8');
    expect(eml).toContain(`Subject: [#${ticket.number}] Received: Hello`);
    expect(eml).toContain('Auto-Submitted: auto-replied');
    // The file is written before the delivery row records it: wait for the row.
    const delivery = await waitFor(async () => {
      const [d] = await listTicketDeliveries(t.db, ticket.id);
      return d?.state === 'sent' ? d : undefined;
    }, 'the delivery to be recorded as sent');
    expect(delivery.recipients[0]!.diagnostic).toContain('written to');
  });

  it('records a recipient the relay refuses with 5xx at once, per recipient', async () => {
    const { t, sink } = await appWithSink('desk@example.com');
    sink.rcptReplies.set('nobody@client.example', [550, 'No such user here']);
    const result = await t.send({ from: 'nobody@client.example', to: ['desk@example.com'] }, rawMessage({ from: 'nobody@client.example', to: 'desk@example.com', subject: 'Hi' }));
    const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(result)));
    const delivery = await waitFor(async () => {
      const [d] = await listTicketDeliveries(t.db, ticket.id);
      return d && d.state !== 'queued' ? d : undefined;
    }, 'the delivery to settle');
    expect(delivery.state).toBe('failed');
    expect(delivery.recipients[0]).toMatchObject({ address: 'nobody@client.example', state: 'failed', smtpCode: 550, enhancedStatus: '5.1.1', hard: true });
    expect(delivery.recipients[0]!.diagnostic).toContain('No such user here');
    expect(sink.mails).toHaveLength(0);
  });

  it('retries a recipient the relay defers with 4xx and delivers it once accepted', async () => {
    const { t, sink } = await appWithSink('desk@example.com');
    sink.rcptReplies.set('grey@client.example', [450, 'Greylisted, try again']);
    const result = await t.send({ from: 'grey@client.example', to: ['desk@example.com'] }, rawMessage({ from: 'grey@client.example', to: 'desk@example.com', subject: 'Hi' }));
    const ticket = await ticketOfInbound(t, await waitForInbound(t, queuedId(result)));
    await waitFor(async () => {
      const [d] = await listTicketDeliveries(t.db, ticket.id);
      return d?.recipients[0]?.state === 'deferred' ? d : undefined;
    }, 'the recipient to be deferred');
    sink.rcptReplies.delete('grey@client.example');
    await sink.waitForMails(1, 15_000);
    const delivery = await waitFor(async () => {
      const [d] = await listTicketDeliveries(t.db, ticket.id);
      return d?.state === 'sent' ? d : undefined;
    }, 'the delivery to be recorded as sent');
    expect(delivery.attempts).toBeGreaterThanOrEqual(2);
  });

  it('stops by itself when two mailroom instances answer each other', async () => {
    const [a, b] = await Promise.all([appWithSink('desk@a.example'), appWithSink('desk@b.example')]);
    // Each relay hands its mail to the other daemon, as the internet would.
    a.sink.forwardTo = async (mail) => void (await sendRaw(b.t.smtpPort, { from: mail.envelopeFrom, to: mail.rcptTo }, mail.raw));
    b.sink.forwardTo = async (mail) => void (await sendRaw(a.t.smtpPort, { from: mail.envelopeFrom, to: mail.rcptTo }, mail.raw));
    // B's address writes to A (say, a forwarding rule): A acknowledges, B must not answer that.
    const first = await a.t.send({ from: 'desk@b.example', to: ['desk@a.example'] }, rawMessage({ from: 'desk@b.example', to: 'desk@a.example', subject: 'Forwarded' }));
    expect(first.code).toBe(250);
    await a.sink.waitForMails(1);
    const atB = await waitFor(async () => {
      const { listInbound } = await import('../../db/inbound.js');
      const rows = await listInbound(b.t.db, { limit: 10 });
      return rows.length > 0 && rows.every((r) => r.state !== 'received' && r.state !== 'processing') ? rows : undefined;
    }, 'B to process the acknowledgement');
    expect(atB).toHaveLength(1);
    expect(atB[0]!.state).toBe('ignored');
    expect(atB[0]!.stateReason).toMatch(/^auto_generated:(loop_marker|auto_submitted)$/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(a.sink.mails).toHaveLength(1);
    expect(b.sink.mails).toHaveLength(0);
    // Two daemons, each with its own embedded database to create: twice the start-up of the others.
  }, 60_000);
});

describe('reloading the rules file', () => {
  it('keeps the last good rules when an edit is broken, reports it in readiness (still ready) and metrics, and applies a fixed edit', async () => {
    const { t, sink } = await appWithSink('desk@example.com');
    type RulesCheck = { ok: boolean; lastReload?: { ok: boolean; error?: string } };
    const ready = async () => {
      const response = await fetch(`http://127.0.0.1:${t.httpPort}/readyz`);
      return { status: response.status, body: (await response.json()) as { ready: boolean; checks: { rules: RulesCheck } } };
    };
    const reloadSuccess = async () => /^mailroom_rules_last_reload_success (\d)$/m.exec(await (await fetch(`http://127.0.0.1:${t.httpPort}/metrics`)).text())?.[1];
    expect((await ready()).status).toBe(200);
    writeFileSync(t.rulesFile, `${rulesFor('desk@example.com')}\nunknown_section: 1\n`);
    const broken = await waitFor(async () => {
      const r = await ready();
      return r.body.checks.rules.lastReload?.ok === false ? r : undefined;
    }, 'readiness to report the rejected edit');
    // The last good rules serve: no reason to take every instance out of the load balancer.
    expect(broken.status).toBe(200);
    expect(broken.body).toMatchObject({ ready: true, checks: { rules: { ok: true, lastReload: { ok: false } } } });
    expect(broken.body.checks.rules.lastReload!.error).toMatch(/:\d+: .*unknown_section/);
    expect(await reloadSuccess()).toBe('0');
    expect(t.logs.events('rules.rejected').length).toBeGreaterThan(0);
    // The last good rules stay in force: mail is still acknowledged.
    const during = await t.send({ from: 'x@client.example', to: ['desk@example.com'] }, rawMessage({ from: 'x@client.example', to: 'desk@example.com', subject: 'During' }));
    await waitForInbound(t, queuedId(during));
    await sink.waitForMails(1);
    writeFileSync(t.rulesFile, rulesFor('desk@example.com').replace('Received: {{subject}}', 'Got it: {{subject}}'));
    await waitFor(async () => (await ready()).body.checks.rules.lastReload?.ok, 'readiness to report the fixed edit');
    expect(await reloadSuccess()).toBe('1');
    const after = await t.send({ from: 'y@client.example', to: ['desk@example.com'] }, rawMessage({ from: 'y@client.example', to: 'desk@example.com', subject: 'After' }));
    await waitForInbound(t, queuedId(after));
    const mails = await sink.waitForMails(2);
    expect(mails[1]!.message.subject).toMatch(/^\[#\d+\] Got it: After$/);
  });

  it('applies an edit saved by renaming a new file into place, as editors and `sed -i` do', async () => {
    const { t, sink } = await appWithSink('desk@example.com');
    const swap = path.join(path.dirname(t.rulesFile), '.rules.yaml.swp');
    writeFileSync(swap, rulesFor('desk@example.com').replace('Received: {{subject}}', 'Renamed: {{subject}}'));
    renameSync(swap, t.rulesFile);
    await waitFor(() => t.logs.events('rules.loaded').length > 0 || undefined, 'the renamed file to be loaded');
    const sent = await t.send({ from: 'z@client.example', to: ['desk@example.com'] }, rawMessage({ from: 'z@client.example', to: 'desk@example.com', subject: 'Swapped' }));
    await waitForInbound(t, queuedId(sent));
    const [mail] = await sink.waitForMails(1);
    expect(mail!.message.subject).toMatch(/^\[#\d+\] Renamed: Swapped$/);
  });
});

describe('the outbound queue (as an MTA keeps it)', () => {
  const hello = (t: TestApp, from: string) =>
    t.send({ from, to: ['desk@example.com'] }, rawMessage({ from, to: 'desk@example.com', subject: 'Hello' })).then((sent) => waitForInbound(t, queuedId(sent)));
  const deliveryOf = async (t: TestApp, ticketId: number) => (await listTicketDeliveries(t.db, ticketId))[0];
  const contactOf = async (t: TestApp, address: string) => (await t.db.select().from(contacts).where(eq(contacts.address, address)))[0];
  async function cli(t: TestApp, ...argv: string[]) {
    const io = { text: '', errors: '', out: (s: string) => void (io.text += s), err: (s: string) => void (io.errors += s), isTTY: false };
    const code = await t.app.runCommand(argv, io);
    return { code, text: io.text, errors: io.errors };
  }
  async function metric(t: TestApp, line: string): Promise<number | null> {
    const text = await (await fetch(`http://127.0.0.1:${t.httpPort}/metrics`)).text();
    const found = text.split('\n').find((l) => l.startsWith(`${line} `));
    return found === undefined ? null : Number(found.split(' ').pop());
  }

  it('keeps mail a greylisting relay refuses as a whole and delivers it once accepted: no bounce, nobody marked', async () => {
    const { t, sink } = await appWithSink('desk@example.com');
    sink.mailFromReply = [451, '4.7.1 Greylisted, try again later'];
    const ticket = await ticketOfInbound(t, await hello(t, 'ana@client.example'));
    await waitFor(() => t.logs.events('delivery.deferred').length >= 2 || undefined, 'the delivery to be deferred twice');
    const deferred = (await deliveryOf(t, ticket.id))!;
    expect(deferred.recipients[0]).toMatchObject({ state: 'deferred', smtpCode: 451, reason: 'relay_deferred' });
    expect(deferred.nextAttemptAt).toBeInstanceOf(Date);
    expect(await metric(t, 'mailroom_relay_up')).toBe(0);
    sink.mailFromReply = null;
    await sink.waitForMails(1, 15_000);
    const sent = await waitFor(async () => {
      const d = await deliveryOf(t, ticket.id);
      return d?.state === 'sent' ? d : undefined;
    }, 'the delivery to be sent');
    expect(sent.recipients[0]!.state).toBe('sent');
    expect(sent.nextAttemptAt).toBeNull();
    expect((await contactOf(t, 'ana@client.example'))!).toMatchObject({ softBounces: 0, suppressedAt: null });
    const detail = await ticketDetail(t, ticket.id);
    expect(detail.ticket.tags).not.toContain('system_email_notification_failure');
    expect(detail.events.map((e) => e.type)).not.toContain('delivery.failed');
    expect(detail.participants.find((p) => p.address === 'ana@client.example')!.deliveryState).not.toBe('failed');
    expect(await metric(t, 'mailroom_relay_up')).toBe(1);
    // Loud once, then routine.
    const deferrals = t.logs.events('delivery.deferred').filter((l) => l.deliveryId === sent.id);
    expect(deferrals.filter((l) => l.level === 40)).toHaveLength(1);
    expect(deferrals.filter((l) => l.level === 30).length).toBeGreaterThanOrEqual(1);
  });

  it('takes a 5xx for the whole transaction as the relay’s trouble, not the recipient’s', async () => {
    const { t, sink } = await appWithSink('desk@example.com');
    sink.mailFromReply = [554, '5.7.1 Relay access denied'];
    const ticket = await ticketOfInbound(t, await hello(t, 'rosa@client.example'));
    const deferred = await waitFor(async () => {
      const d = await deliveryOf(t, ticket.id);
      return d?.state === 'deferred' ? d : undefined;
    }, 'the delivery to be deferred');
    expect(deferred.recipients[0]).toMatchObject({ state: 'deferred', smtpCode: 554, reason: 'relay_refused', hard: false });
    expect((await contactOf(t, 'rosa@client.example'))!).toMatchObject({ softBounces: 0, suppressedAt: null });
  });

  it('expires what the relay never takes within the lifetime: a relay failure on the ticket, nobody suppressed', async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const { t } = await appWithSink('desk@example.com', { MAILROOM_SMTP_RELAY: `smtp://127.0.0.1:${closed}`, MAILROOM_OUTBOUND_MAX_AGE: '2s' });
    const ticket = await ticketOfInbound(t, await hello(t, 'luz@client.example'));
    const expired = await waitFor(async () => {
      const d = await deliveryOf(t, ticket.id);
      return d?.state === 'expired' ? d : undefined;
    }, 'the delivery to expire', 15_000);
    expect(Date.now() - expired.createdAt.getTime()).toBeGreaterThanOrEqual(2000);
    expect(expired.attempts).toBeGreaterThanOrEqual(2);
    expect(expired.recipients[0]).toMatchObject({ state: 'expired', reason: 'relay_unreachable', hard: false });
    const detail = await ticketDetail(t, ticket.id);
    expect(detail.ticket.tags).toContain('system_email_notification_failure');
    expect(detail.events.find((e) => e.type === 'delivery.expired')?.data).toMatchObject({ deliveryId: expired.id, reason: 'relay_unreachable' });
    expect(String((detail.events.find((e) => e.type === 'delivery.expired')!.data as { text: string }).text)).toContain('gave up after 2 seconds in the queue');
    expect(detail.participants.find((p) => p.address === 'luz@client.example')!.deliveryState).toBeNull();
    expect((await contactOf(t, 'luz@client.example'))!).toMatchObject({ softBounces: 0, suppressedAt: null });
    expect(t.logs.events('delivery.expired')).toHaveLength(1);

    const failures = JSON.parse((await cli(t, 'failures', '--format', 'json')).text) as { failures: Array<Record<string, unknown>> };
    expect(failures.failures).toEqual([
      expect.objectContaining({ recipient: 'luz@client.example', state: 'expired', hardOrSoft: 'relay', reason: 'relay_unreachable', subject: 'Hello', requester: 'luz@client.example' }),
    ]);
    const listed = JSON.parse((await cli(t, 'outbound', 'list', '--state', 'expired', '--json')).text) as { deliveries: Array<Record<string, unknown>> };
    expect(listed.deliveries.map((d) => d.id)).toEqual([expired.id]);
    expect(await metric(t, 'mailroom_relay_up')).toBe(0);
    expect(await metric(t, 'mailroom_outbound_recipients_total{result="expired"}')).toBe(1);
  });

  it('sends deferred mail now on `outbound retry`, without waiting for its next attempt', async () => {
    const { t, sink } = await appWithSink('desk@example.com', { MAILROOM_OUTBOUND_RETRY_MIN: '1h', MAILROOM_OUTBOUND_RETRY_MAX: '1h' });
    sink.mailFromReply = [421, '4.3.2 Service shutting down'];
    const ticket = await ticketOfInbound(t, await hello(t, 'eva@client.example'));
    const deferred = await waitFor(async () => {
      const d = await deliveryOf(t, ticket.id);
      return d?.state === 'deferred' ? d : undefined;
    }, 'the delivery to be deferred');
    expect(deferred.nextAttemptAt!.getTime() - Date.now()).toBeGreaterThan(30 * 60_000);
    const listed = JSON.parse((await cli(t, 'outbound', 'list', '--state', 'deferred', '--json')).text) as { deliveries: Array<{ id: number; recipients: Array<{ state: string }> }> };
    expect(listed.deliveries).toEqual([expect.objectContaining({ id: deferred.id, recipients: [expect.objectContaining({ state: 'deferred' })] })]);
    sink.mailFromReply = null;
    const retried = await cli(t, 'outbound', 'retry', '--all-deferred', '--json');
    expect(retried.code, retried.errors).toBe(0);
    expect(JSON.parse(retried.text)).toEqual({ retried: [deferred.id], notDeferred: [], queued: true });
    await sink.waitForMails(1);
    await waitFor(async () => ((await deliveryOf(t, ticket.id))?.state === 'sent' ? true : undefined), 'the delivery to be sent');
    const again = await cli(t, 'outbound', 'retry', String(deferred.id));
    expect(again.code).not.toBe(0);
    expect(again.errors).toContain(`not deferred (nothing to retry): ${deferred.id}`);
  });
});
