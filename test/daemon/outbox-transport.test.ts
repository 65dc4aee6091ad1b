import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../daemon/logger.js';
import { createOutboundTransport } from '../../daemon/outbound/transport.js';

const mail = (to: string) => ({
  from: 'support@example.com',
  to,
  subject: 'Ticket [#1000]',
  text: 'We have your message.',
  envelope: { from: 'bounces@example.com', to: [to] },
});

describe('the outbox folder transport', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('writes each mail as a whole .eml file, and makes the folder again when someone removed it', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'mailroom-outbox-'));
    dirs.push(root);
    const outboxDir = path.join(root, 'outbox');
    const transport = createOutboundTransport({ relayUrl: null, outboxDir, hostname: 'mx.example.com', logger: createLogger('silent') });
    try {
      const first = await transport.send(mail('ana@example.org'), 'd1-ana');
      expect(first.rejected).toEqual([]);
      expect(readFileSync(path.join(outboxDir, 'd1-ana.eml'), 'utf8')).toContain('Subject: Ticket [#1000]');

      rmSync(outboxDir, { recursive: true });
      const second = await transport.send(mail('bo@example.org'), 'd2-bo');
      expect(second.accepted.map((a) => a.address)).toEqual(['bo@example.org']);
      expect(readFileSync(path.join(outboxDir, 'd2-bo.eml'), 'utf8')).toContain('To: bo@example.org');
      expect(existsSync(path.join(outboxDir, 'd2-bo.eml.tmp'))).toBe(false);
    } finally {
      transport.close();
    }
  });
});
