import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTlsFiles } from '../../daemon/tls-files.js';

let dir: string;
const at = (name: string) => path.join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mailroom-tls-files-'));
  for (const name of ['a', 'b']) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at(`${name}-key.pem`), '-out', at(`${name}-cert.pem`), '-days', '1', '-subj', '/CN=mailroom.test'], { stdio: 'ignore' });
  }
  writeFileSync(at('not-pem.txt'), 'hello\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the TLS files, checked before start', () => {
  it('accept a key with its own certificate', async () => {
    expect(await checkTlsFiles({ keyFile: at('a-key.pem'), certFile: at('a-cert.pem') })).toEqual([]);
  });

  it('name the key before the certificate when neither can be read, however the reads finish', async () => {
    // Reads of a missing file and of a folder fail at different speeds, in either order.
    for (const [keyFile, certFile] of [[at('missing-key.pem'), dir], [dir, at('missing-cert.pem')], [at('missing-key.pem'), at('missing-cert.pem')]] as const) {
      for (let round = 0; round < 10; round += 1) {
        const problems = await checkTlsFiles({ keyFile, certFile });
        expect(problems.map((p) => p.split(':')[0])).toEqual(['MAILROOM_TLS_KEY', 'MAILROOM_TLS_CERT']);
      }
    }
  });

  it('name a file that is missing and one that is not PEM', async () => {
    expect(await checkTlsFiles({ keyFile: at('missing.pem'), certFile: at('not-pem.txt') })).toEqual([
      `MAILROOM_TLS_KEY: cannot read ${at('missing.pem')} (ENOENT)`,
      `MAILROOM_TLS_CERT: ${at('not-pem.txt')} is not a PEM certificate (-----BEGIN CERTIFICATE-----)`,
    ]);
  });

  it('refuse a key given as the certificate and the other way round', async () => {
    expect(await checkTlsFiles({ keyFile: at('a-cert.pem'), certFile: at('a-key.pem') })).toEqual([
      `MAILROOM_TLS_KEY: ${at('a-cert.pem')} is not a PEM private key (unencrypted, -----BEGIN PRIVATE KEY-----)`,
      `MAILROOM_TLS_CERT: ${at('a-key.pem')} is not a PEM certificate (-----BEGIN CERTIFICATE-----)`,
    ]);
  });

  it("refuse a key that is not the certificate's", async () => {
    expect(await checkTlsFiles({ keyFile: at('b-key.pem'), certFile: at('a-cert.pem') })).toEqual([
      `MAILROOM_TLS_KEY: ${at('b-key.pem')} is not the key of the certificate in ${at('a-cert.pem')}`,
    ]);
  });
});
