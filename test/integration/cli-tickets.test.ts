import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMailroom, startDaemonProcess } from '../helpers/daemon-process.js';
import { cliEnvironments } from '../helpers/cli-environments.js';
import { realMode } from '../helpers/mode.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { rawMessage } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

/*
 * An agent's ticket commands from a terminal: `tickets status` changes a ticket the way the rules
 * do (the event, the status's on_enter actions, the notification queued), `tickets list` filters
 * by tag and requester, and text output shows times in the terminal's zone (TZ) while --json keeps
 * UTC. Embedded, the commands are forwarded to the daemon that owns the database (which runs in
 * another zone); in the real-services run they also open PostgreSQL themselves.
 */
const RULES = new URL('../fixtures/rules/details.yaml', import.meta.url).pathname;
const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
// The daemon's zone is UTC; the terminal's (TZ on each command) is another.
const environments = cliEnvironments('cli_tickets', { MAILROOM_CONFIG: RULES, TZ: 'UTC' });
beforeAll(() => environments.setup());
afterAll(() => environments.teardown());
const baseEnv = environments.embedded;
const postgresEnv = environments.postgres;

/** What a terminal in Asia/Kolkata (+05:30 all year) shows for a UTC time from --json. */
function inKolkata(isoUtc: string): string {
  return `${new Date(Date.parse(isoUtc) + 330 * 60_000).toISOString().slice(0, 19).replace('T', ' ')}+05:30`;
}

interface ListedTicket {
  number: number;
  status: string;
  requester: string;
  tags: string[];
  updatedAt: string;
}

async function listTickets(env: Record<string, string>, filters: string[] = []): Promise<ListedTicket[]> {
  const run = await runMailroom(['tickets', 'list', ...filters, '--json'], env);
  expect(run.code, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as { tickets: ListedTicket[] }).tickets;
}

describe('mailroom --version', () => {
  it.each(['--version', '-V'])('%s prints the version in package.json', async (flag) => {
    const run = await runMailroom([flag], baseEnv());
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`${PACKAGE.version}\n`);
  });
});

describe('mailroom tickets', () => {
  // Each mode's own store: the embedded variant runs in embedded mode, which .ci/run always runs too.
  const stores = realMode
    ? [{ name: 'PostgreSQL, opened by the command itself', forwarded: false, env: postgresEnv }]
    : [{ name: 'the embedded database, forwarded to the daemon', forwarded: true, env: async () => baseEnv() }];

  it.each(stores)(
    'sets a status with its on_enter actions, filters by tag and requester, and prints local times, on $name',
    async ({ env: makeEnv, forwarded }) => {
      const env = await makeEnv();
      const daemon = await startDaemonProcess(env);
      try {
        for (const from of ['Ana <ana@cliente.es>', 'Luis <luis@cliente.es>']) {
          const sent = await sendRaw(daemon.smtpPort, { from: from.replace(/.*<|>/g, ''), to: ['soporte@example.com'] }, rawMessage({ from, subject: `No me llegan los envíos (${from})` }));
          expect(sent.code, sent.response).toBe(250);
        }
        const listed = await waitFor(async () => {
          const tickets = await listTickets(env);
          return tickets.length === 2 ? tickets : undefined;
        }, 'both tickets to be listed', 60_000);
        const ana = listed.find((t) => t.requester === 'ana@cliente.es')!;
        const luis = listed.find((t) => t.requester === 'luis@cliente.es')!;

        // The requester filter compares the mailbox: case and a +tag do not matter.
        expect((await listTickets(env, ['--requester', 'Ana+pedidos@Cliente.es'])).map((t) => t.number)).toEqual([ana.number]);
        expect(await listTickets(env, ['--tag', 'resolved'])).toEqual([]);

        const changed = await runMailroom(['tickets', 'status', String(ana.number), 'solved', '--json'], env);
        expect(changed.code, changed.stderr).toBe(0);
        const result = JSON.parse(changed.stdout) as { ticket: number; from: string; status: string; changed: boolean; tags: string[]; deliveryIds: number[]; queued: boolean };
        // details.yaml: entering solved notifies the requester and adds the tag resolved.
        expect(result).toMatchObject({ ticket: ana.number, from: ana.status, status: 'solved', changed: true, queued: forwarded });
        expect(result.tags).toContain('resolved');
        expect(result.deliveryIds).toHaveLength(1);

        const shown = await runMailroom(['tickets', 'show', String(ana.number), '--json'], env);
        const detail = JSON.parse(shown.stdout) as {
          ticket: { status: string; tags: string[] };
          events: Array<{ type: string; data: Record<string, unknown>; at: string }>;
          deliveries: Array<{ id: number; kind: string; subject: string; recipients: Array<{ address: string }> }>;
        };
        expect(detail.ticket.status).toBe('solved');
        expect(detail.events.filter((e) => e.type === 'status.changed').at(-1)!.data).toEqual({ from: ana.status, to: 'solved', reason: 'manual' });
        expect(detail.events.map((e) => e.type)).toEqual(expect.arrayContaining(['mail.queued', 'tag.added']));
        const notification = detail.deliveries.find((d) => d.id === result.deliveryIds[0])!;
        expect(notification).toMatchObject({ kind: 'notification', subject: expect.stringContaining('Resuelto:') as unknown });
        expect(notification.recipients.map((r) => r.address)).toEqual(['ana@cliente.es']);

        expect((await listTickets(env, ['--tag', 'resolved'])).map((t) => t.number)).toEqual([ana.number]);
        expect((await listTickets(env, ['--tag', 'resolved', '--requester', 'luis@cliente.es'])).map((t) => t.number)).toEqual([]);
        expect((await listTickets(env, ['--requester', 'luis@cliente.es'])).map((t) => t.number)).toEqual([luis.number]);

        // Asked again: nothing changes, nothing is sent twice.
        const again = await runMailroom(['tickets', 'status', String(ana.number), 'solved'], env);
        expect(again.stdout).toBe(`ticket ${ana.number} is already solved; nothing changed\n`);
        const unknown = await runMailroom(['tickets', 'status', String(ana.number), 'done'], env);
        expect(unknown.code).toBe(2);

        const kolkata = { ...env, TZ: 'Asia/Kolkata' };
        const [solved] = await listTickets(kolkata, ['--tag', 'resolved']);
        expect(solved!.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/); // JSON stays UTC
        const table = await runMailroom(['tickets', 'list', '--requester', 'ana@cliente.es'], kolkata);
        expect(table.stdout).toMatch(new RegExp(`^${ana.number}\\s+solved\\s+ana@cliente\\.es\\s+\\d+\\s+${inKolkata(solved!.updatedAt).replace('+', '\\+')}\\s`, 'm'));
        const events = await runMailroom(['tickets', 'show', String(ana.number)], kolkata);
        const changedAt = detail.events.filter((e) => e.type === 'status.changed').at(-1)!.at;
        expect(events.stdout).toContain(`  ${inKolkata(changedAt)}  status.changed`);
        const inbound = await runMailroom(['inbound', 'list', '--json'], env);
        const received = (JSON.parse(inbound.stdout) as { inbound: Array<{ id: number; receivedAt: string }> }).inbound[0]!;
        expect((await runMailroom(['inbound', 'list'], kolkata)).stdout).toMatch(new RegExp(`^${received.id}\\s+\\w+\\s+${inKolkata(received.receivedAt).replace('+', '\\+')}\\s`, 'm'));
      } finally {
        expect(await daemon.stop()).toBe(0);
      }
    },
    120_000,
  );
});
