import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import type { Logger } from '../logger.js';

/** What the relay said about each recipient of one SMTP transaction. */
export interface TransportResult {
  accepted: Array<{ address: string; response: string }>;
  rejected: Array<{ address: string; code: number | null; response: string }>;
}

/** Sends one composed mail; throws when the transaction failed as a whole (the relay's trouble). */
export interface OutboundTransport {
  readonly kind: 'relay' | 'outbox';
  send(mail: SendMailOptions & { envelope: { from: string; to: string[] } }, fileStem: string): Promise<TransportResult>;
  close(): void;
}

interface SmtpRejection {
  recipient?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

/** Relay over SMTP (MAILROOM_SMTP_RELAY) or, without one, .eml files in the outbox folder. */
export function createOutboundTransport(options: { relayUrl: string | null; outboxDir: string; hostname: string; logger: Logger }): OutboundTransport {
  if (!options.relayUrl) {
    const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
    // The folder is made when first needed, and again only if someone removed it: a mkdir per
    // mail was a tenth of what writing one cost.
    let folderMade = false;
    const writeTemporary = async (file: string, message: Buffer): Promise<void> => {
      if (!folderMade) {
        await mkdir(options.outboxDir, { recursive: true });
        folderMade = true;
      }
      try {
        await writeFile(file, message);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        await mkdir(options.outboxDir, { recursive: true });
        await writeFile(file, message);
      }
    };
    return {
      kind: 'outbox',
      async send(mail, fileStem) {
        const info = (await composer.sendMail(mail)) as { message: Buffer };
        const file = path.join(options.outboxDir, `${fileStem}.eml`);
        // Write then rename: a reader of the folder never sees half a message.
        await writeTemporary(`${file}.tmp`, info.message);
        await rename(`${file}.tmp`, file);
        return { accepted: mail.envelope.to.map((address) => ({ address, response: `written to ${file}` })), rejected: [] };
      },
      close() {
        composer.close();
      },
    };
  }
  const relay = nodemailer.createTransport(options.relayUrl, { name: options.hostname, pool: true, maxConnections: 4 } as never);
  return {
    kind: 'relay',
    async send(mail) {
      try {
        const info = (await relay.sendMail(mail)) as {
          accepted: Array<string | { address: string }>;
          rejectedErrors?: SmtpRejection[];
          rejected: Array<string | { address: string }>;
          response: string;
        };
        return {
          accepted: info.accepted.map((a) => ({ address: typeof a === 'string' ? a : a.address, response: info.response })),
          rejected: rejections(info.rejectedErrors, info.rejected),
        };
      } catch (err) {
        const e = err as SmtpRejection & { code?: string; rejectedErrors?: SmtpRejection[]; rejected?: Array<string | { address: string }> };
        // Every recipient refused at RCPT: not a transport failure, an answer per recipient.
        if (e.code === 'EENVELOPE' && e.rejectedErrors?.length) return { accepted: [], rejected: rejections(e.rejectedErrors, e.rejected ?? []) };
        // Anything else (unreachable, TLS, login, MAIL FROM or DATA refused) is about the relay.
        throw err;
      }
    },
    close() {
      relay.close();
    },
  };
}

function rejections(errors: SmtpRejection[] | undefined, rejected: Array<string | { address: string }>): TransportResult['rejected'] {
  const out = (errors ?? []).map((e) => ({ address: e.recipient ?? '', code: e.responseCode ?? null, response: e.response ?? e.message ?? '' }));
  // Recipients nodemailer lists as rejected without an error object still get a row.
  for (const r of rejected) {
    const address = typeof r === 'string' ? r : r.address;
    if (!out.some((o) => o.address === address)) out.push({ address, code: null, response: 'rejected' });
  }
  return out;
}
