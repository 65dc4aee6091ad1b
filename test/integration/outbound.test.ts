import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listTicketDeliveries } from '../../db/deliveries.js';
import { ticketOfInbound, waitForInbound } from '../helpers/queries.js';
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
  const t = await startTestApp({ rules: rulesFor(address), env: { MAILROOM_SMTP_RELAY: sink.url, ...env } });
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
    const a = await appWithSink('desk@a.example');
    const b = await appWithSink('desk@b.example');
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
  });
});

describe('reloading the rules file', () => {
  it('keeps the last good rules when an edit is broken, reports it in readiness, and applies a fixed edit', async () => {
    const { t, sink } = await appWithSink('desk@example.com');
    const ready = async () => (await fetch(`http://127.0.0.1:${t.httpPort}/readyz`)).json() as Promise<{ ready: boolean; checks: { rules: { ok: boolean; error?: string } } }>;
    expect((await ready()).ready).toBe(true);
    writeFileSync(t.rulesFile, `${rulesFor('desk@example.com')}\nunknown_section: 1\n`);
    const broken = await waitFor(async () => {
      const r = await ready();
      return r.ready ? undefined : r;
    }, 'readiness to report the broken rules');
    expect(broken.checks.rules.error).toMatch(/:\d+: .*unknown_section/);
    expect(t.logs.events('rules.rejected').length).toBeGreaterThan(0);
    // The last good rules stay in force: mail is still acknowledged.
    const during = await t.send({ from: 'x@client.example', to: ['desk@example.com'] }, rawMessage({ from: 'x@client.example', to: 'desk@example.com', subject: 'During' }));
    await waitForInbound(t, queuedId(during));
    await sink.waitForMails(1);
    writeFileSync(t.rulesFile, rulesFor('desk@example.com').replace('Received: {{subject}}', 'Got it: {{subject}}'));
    await waitFor(async () => (await ready()).ready, 'readiness to recover');
    const after = await t.send({ from: 'y@client.example', to: ['desk@example.com'] }, rawMessage({ from: 'y@client.example', to: 'desk@example.com', subject: 'After' }));
    await waitForInbound(t, queuedId(after));
    const mails = await sink.waitForMails(2);
    expect(mails[1]!.message.subject).toMatch(/^\[#\d+\] Got it: After$/);
  });
});
