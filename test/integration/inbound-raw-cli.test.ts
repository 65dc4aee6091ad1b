import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMailroom, startDaemonProcess } from '../helpers/daemon-process.js';
import { cliEnvironments } from '../helpers/cli-environments.js';
import { latin1Message } from '../helpers/latin1-message.js';
import { realMode } from '../helpers/mode.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

/*
 * `mailroom inbound raw` writes a stored mail byte for byte: forwarded to the daemon that owns the
 * embedded database (the bytes cross its HTTP response as base64), run locally once that daemon
 * has stopped, and (in the real-services run) read from PostgreSQL, where large messages are
 * chunk rows read by binary COPY.
 */
const environments = cliEnvironments('raw');
beforeAll(() => environments.setup());
afterAll(() => environments.teardown());
const baseEnv = environments.embedded;
const postgresEnv = environments.postgres;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** `inbound raw` of a row: its output must be the row's bytes (sha256 as `inbound show` gives it). */
async function expectRawOutput(env: Record<string, string>, id: number, sent: Buffer): Promise<void> {
  const shown = await runMailroom(['inbound', 'show', String(id), '--json'], env);
  expect(shown.code, shown.stderr).toBe(0);
  const row = JSON.parse(shown.stdout) as { sha256: string; sizeBytes: number; state: string };
  expect(row).toMatchObject({ sha256: sha256(sent), sizeBytes: sent.length });
  const written = await runMailroom(['inbound', 'raw', String(id)], env);
  expect(written.code, written.stderr).toBe(0);
  expect(written.stderr).toBe('');
  expect(sha256(written.stdoutBytes)).toBe(row.sha256);
  expect(written.stdoutBytes.equals(sent)).toBe(true);
}

describe('mailroom inbound raw', () => {
  // Each mode's own store: the embedded variant runs in embedded mode, which .ci/run always runs too.
  const stores = realMode
    ? [{ name: 'PostgreSQL, read by the command itself', env: postgresEnv }]
    : [{ name: 'the embedded database, forwarded to the daemon', env: async () => baseEnv() }];

  it.each(stores)('writes an ISO-8859-1 mail byte for byte from $name, and after the daemon has stopped', async ({ env: makeEnv }) => {
    const env = await makeEnv();
    const daemon = await startDaemonProcess(env);
    const small = latin1Message({ messageId: `latin1.small.${randomBytes(3).toString('hex')}@cliente.es` });
    // Over 1 MB: chunk rows in the spool, and several frames in a forwarded response.
    const large = latin1Message({ messageId: `latin1.large.${randomBytes(3).toString('hex')}@cliente.es`, bodyLines: 15_000 });
    const ids: number[] = [];
    try {
      for (const raw of [small, large]) {
        const sent = await sendRaw(daemon.smtpPort, { from: 'jose@cliente.es', to: ['soporte@example.com'] }, raw);
        expect(sent.code, sent.response).toBe(250);
        ids.push(queuedId(sent));
      }
      // A row is readable once received; wait for processing anyway so the daemon is idle.
      await waitFor(async () => {
        const listed = await runMailroom(['inbound', 'list', '--json'], env);
        const rows = (JSON.parse(listed.stdout) as { inbound: Array<{ id: number; state: string }> }).inbound;
        return ids.every((id) => rows.some((row) => row.id === id && row.state === 'processed'));
      }, 'both mails to be processed', 60_000);
      await expectRawOutput(env, ids[0]!, small);
      await expectRawOutput(env, ids[1]!, large);
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
    await expectRawOutput(env, ids[0]!, small);
    await expectRawOutput(env, ids[1]!, large);
  }, 180_000); // a daemon and eleven CLI processes, each starting tsx
});
