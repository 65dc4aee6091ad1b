import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Config } from './config.js';

/**
 * What STARTTLS would fail on: a key or certificate file that cannot be read, is not PEM, or a key
 * that is not the certificate's. Checked before anything opens, so that start and `config check`
 * name the file instead of failing later inside the SMTP server.
 */
export async function checkTlsFiles(tls: Config['smtp']['tls']): Promise<string[]> {
  if (!tls) return [];
  const problems: string[] = [];
  const read = async (variable: string, file: string): Promise<{ text: string | null; problem?: string }> => {
    try {
      return { text: await readFile(file, 'utf8') };
    } catch (err) {
      return { text: null, problem: `${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
    }
  };
  const [keyRead, certRead] = await Promise.all([read('MAILROOM_TLS_KEY', tls.keyFile), read('MAILROOM_TLS_CERT', tls.certFile)]);
  // Key first, then certificate, whichever read failed first: the same message every time.
  for (const { problem } of [keyRead, certRead]) if (problem) problems.push(problem);
  const keyText = keyRead.text;
  const certText = certRead.text;
  let key: ReturnType<typeof createPrivateKey> | null = null;
  let cert: X509Certificate | null = null;
  if (keyText !== null) {
    try {
      if (!keyText.includes('-----BEGIN')) throw new Error('no PEM block');
      key = createPrivateKey(keyText);
    } catch {
      problems.push(`MAILROOM_TLS_KEY: ${tls.keyFile} is not a PEM private key (unencrypted, -----BEGIN PRIVATE KEY-----)`);
    }
  }
  if (certText !== null) {
    try {
      if (!certText.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate');
      cert = new X509Certificate(certText);
    } catch {
      problems.push(`MAILROOM_TLS_CERT: ${tls.certFile} is not a PEM certificate (-----BEGIN CERTIFICATE-----)`);
    }
  }
  if (key && cert && !cert.checkPrivateKey(key)) {
    problems.push(`MAILROOM_TLS_KEY: ${tls.keyFile} is not the key of the certificate in ${tls.certFile}`);
  }
  return problems;
}
