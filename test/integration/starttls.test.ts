import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queuedId, RawSmtp } from '../helpers/smtp-client.js';
import { waitForInbound } from '../helpers/queries.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let certDir: string;
beforeAll(async () => {
  certDir = mkdtempSync(path.join(os.tmpdir(), 'mailroom-tls-'));
  const key = path.join(certDir, 'key.pem');
  const cert = path.join(certDir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=mailroom.test'], { stdio: 'ignore' });
  t = await startTestApp({ env: { MAILROOM_TLS_KEY: key, MAILROOM_TLS_CERT: cert } });
});
afterAll(async () => {
  await t?.close();
  rmSync(certDir, { recursive: true, force: true });
});

describe('STARTTLS', () => {
  it('is offered when a certificate is configured', async () => {
    const { client } = await RawSmtp.connect(t.smtpPort);
    try {
      expect((await client.command('EHLO client.test')).split('\n').map((l) => l.slice(4))).toContain('STARTTLS');
    } finally {
      client.close();
    }
  });

  it('records that a message arrived over TLS', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: t.smtpPort, secure: false, requireTLS: true, tls: { rejectUnauthorized: false } });
    try {
      const info = await transport.sendMail({ envelope: { from: 'ana@cliente.es', to: ['soporte@example.com'] }, raw: rawMessage({ from: 'ana@cliente.es', subject: 'tls' }) });
      const row = await waitForInbound(t, queuedId({ ok: true, response: info.response, code: 250 }));
      expect(row.tls).toBe(true);
      expect(row.state).toBe('processed');
    } finally {
      transport.close();
    }
  });
});
