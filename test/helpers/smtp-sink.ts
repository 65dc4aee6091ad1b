import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { parseMessage, type ParsedMessage } from '../../parsers/message.js';
import { waitFor } from './wait.js';

export interface CaughtMail {
  envelopeFrom: string;
  rcptTo: string[];
  raw: Buffer;
  message: ParsedMessage;
}

export interface SmtpSink {
  port: number;
  url: string;
  mails: CaughtMail[];
  /** Replies for RCPT TO per address, e.g. `{ 'gone@x': [550, '5.1.1 no such user'] }`. */
  rcptReplies: Map<string, [number, string]>;
  /** A reply to every MAIL FROM (the whole transaction refused, as a greylisting relay does); null accepts. */
  mailFromReply: [number, string] | null;
  /** MAIL FROM commands seen, accepted or not. */
  mailFromCount: number;
  /** Waits until at least `n` mails have arrived. */
  waitForMails(n: number, timeoutMs?: number): Promise<CaughtMail[]>;
  /** Forwards every caught mail to another SMTP port (to wire two daemons together). */
  forwardTo: ((mail: CaughtMail) => Promise<void>) | null;
  close(): Promise<void>;
}

class SinkReply extends Error {
  constructor(readonly responseCode: number, message: string) {
    super(message);
  }
}

/** A real SMTP server that catches what mailroom sends, and can refuse recipients like a relay. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const mails: CaughtMail[] = [];
  const rcptReplies = new Map<string, [number, string]>();
  const sink: SmtpSink = {
    port: 0,
    url: '',
    mails,
    rcptReplies,
    mailFromReply: null,
    mailFromCount: 0,
    forwardTo: null,
    waitForMails: (n, timeoutMs = 10_000) => waitFor(() => (mails.length >= n ? mails : undefined), `${n} outbound mail(s), got ${mails.length}`, timeoutMs),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    hideENHANCEDSTATUSCODES: false,
    logger: false,
    onMailFrom(_address, _session, callback) {
      sink.mailFromCount += 1;
      if (sink.mailFromReply) return callback(new SinkReply(sink.mailFromReply[0], sink.mailFromReply[1]));
      callback();
    },
    onRcptTo(address, _session, callback) {
      const reply = rcptReplies.get(address.address.toLowerCase());
      if (reply) return callback(new SinkReply(reply[0], reply[1]));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        void parseMessage(raw).then(async (parsed) => {
          if (!parsed.ok) return callback(new Error(parsed.error));
          const mail: CaughtMail = {
            envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            rcptTo: session.envelope.rcptTo.map((r) => r.address),
            raw,
            message: parsed.message,
          };
          mails.push(mail);
          if (sink.forwardTo) await sink.forwardTo(mail).catch(() => undefined);
          callback();
        });
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.port = (server.server.address() as AddressInfo).port;
  sink.url = `smtp://127.0.0.1:${sink.port}`;
  return sink;
}
