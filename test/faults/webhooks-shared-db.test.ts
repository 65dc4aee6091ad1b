import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../daemon/app.js';
import { captureLogs } from '../helpers/log-capture.js';
import { removeQueueKeys } from '../helpers/queue-keys.js';
import { waitFor } from '../helpers/wait.js';
import { rulesWith, webhookKit } from '../helpers/webhook-kit.js';

/*
 * Webhooks on shared PostgreSQL (a fault suite: real mode, where several daemons can share one
 * database): no event sent twice by two daemons, none missed when transactions commit out of order.
 */
const { app, receiver, customerWrites } = webhookKit();

describe('webhooks on a shared database', () => {
  // Only PostgreSQL can be shared; the embedded database belongs to one process.
  it('sends each event once when two daemons share the database', async () => {
    const crm = await receiver();
    const t = await app(rulesWith([{ id: 'crm', url: crm.url, events: ['ticket.created', 'article.added'] }]));
    const secondPrefix = `mrtest-second-${Date.now()}`;
    const second = createApp(t.config, { logger: captureLogs().logger, queuePrefix: secondPrefix, environment: {} });
    await second.start();
    try {
      await Promise.all(['f1', 'f2', 'f3', 'f4'].map((name) => customerWrites(t, `${name}@client.example`, `Shared ${name}`)));
      await waitFor(() => crm.received.length >= 8 || undefined, 'eight webhook requests');
      await new Promise((resolve) => setTimeout(resolve, 500));
      const ids = crm.received.map((r) => r.json.id);
      expect(ids).toHaveLength(8);
      expect(new Set(ids).size).toBe(8);
    } finally {
      await second.stop();
      await removeQueueKeys(secondPrefix);
    }
  });

  // A transaction can take its event id first and commit last: reading by id would step past it.
  it('sends an event committed after later ones, without missing it', async () => {
    const crm = await receiver();
    const t = await app(rulesWith([{ id: 'crm', url: crm.url, events: ['ticket.created', 'status.changed'] }]));
    await customerWrites(t, 'gil@client.example', 'First');
    const first = await waitFor(() => crm.received.find((r) => r.json.type === 'ticket.created'), 'the first ticket');
    const client = postgres(t.databaseUrl!, { max: 1, onnotice: () => {} });
    try {
      const held = await client.reserve();
      const [ticket] = await held<Array<{ id: string }>>`select id from tickets where number = ${first.json.ticket!.number as number}`;
      await held`begin`;
      const [event] = await held<Array<{ id: string }>>`insert into ticket_events (ticket_id, type, data) values (${ticket!.id}, 'status.changed', ${held.json({ from: 'new', to: 'open', reason: 'held' })}) returning id`;
      await customerWrites(t, 'hal@client.example', 'Second');
      // the second ticket's events have higher ids and are committed, but wait for the older transaction
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(crm.received).toHaveLength(1);
      await held`commit`;
      held.release();
      await waitFor(() => crm.received.length >= 3 || undefined, 'the held event and the second ticket');
      const heldEvent = crm.received.find((r) => r.json.type === 'status.changed')!;
      const second = crm.received.find((r) => r.json.type === 'ticket.created' && r.json.ticket!.subject === 'Second')!;
      expect(heldEvent.json).toMatchObject({ id: `evt_${event!.id}`, data: { reason: 'held' } });
      expect(Number(event!.id)).toBeLessThan(Number(second.json.id.slice('evt_'.length)));
    } finally {
      await client.end();
    }
  });
});
