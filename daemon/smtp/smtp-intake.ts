import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { Db } from '../../db/client.js';
import { resolveRecipient } from '../../rules/mailboxes.js';
import type { RuleSet } from '../../rules/schema.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { createIntakeHealth, type IntakeStatus } from './intake-health.js';
import { createIntakeSummary } from './intake-summary.js';
import { SmtpReplyError } from './reply-error.js';
import { createStructureWatch } from '../../parsers/mime-structure.js';
import { createAddressRanges } from './address-ranges.js';
import { createSessionLimits } from './session-limits.js';
import { createSpoolBatcher } from './spool-batcher.js';
import { spoolMessage } from './spool-writer.js';

export interface SmtpIntakeDeps {
  config: Config;
  db: Db;
  logger: Logger;
  rules: () => RuleSet;
  /** Called after a message is committed; must not throw (the sweeper repairs lost enqueues). */
  onStored: (inboundId: number) => void;
  metrics: Metrics;
}

export interface SmtpIntake {
  listen(): Promise<number>;
  close(): Promise<void>;
  /** Whether recent spool writes committed (for /readyz). */
  health(): IntakeStatus;
}

/** The parts of smtp-server's connection object used to end a session from outside a handler. */
interface SmtpConnection {
  id: string;
  remoteAddress: string;
  send(code: number, text: string): void;
  close(): void;
  _socket?: { destroy(): void };
}

/** The SMTP front door: cheap checks in the hooks, 250 only after the spool commit. */
export function createSmtpIntake(deps: SmtpIntakeDeps): SmtpIntake {
  const { config, logger } = deps;
  const tls = config.smtp.tls;
  const options: SMTPServerOptions = {
    name: config.smtp.hostname,
    banner: 'mailroom ESMTP',
    size: config.smtp.maxMessageBytes,
    // smtp-server then answers 552 5.3.4 itself once the stream is drained (RFC 5321 §4.5.3.1.10).
    rejectOversized: true,
    maxClients: config.smtp.maxConnections,
    maxRecipients: config.smtp.maxRecipients,
    // RFC 5321 §4.5.3.1.4 sets 512 octets; extension parameters need a little more. A longer line
    // is answered 421 and the connection closed (smtp-server's behaviour past this limit).
    maxCommandLength: 2048,
    authOptional: true,
    disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    hideENHANCEDSTATUSCODES: false,
    hidePIPELINING: false,
    hide8BITMIME: false,
    hideSMTPUTF8: false,
    hideDSN: true,
    // A reverse lookup per connection adds latency and a DNS dependency to every session.
    disableReverseLookup: true,
    socketTimeout: config.smtp.idleTimeoutMs,
    // On shutdown sessions get this long to finish a DATA in progress before they are sent 421.
    closeTimeout: config.smtp.shutdownGraceMs,
    logger: false,
    ...(tls ? { key: readFileSync(tls.keyFile), cert: readFileSync(tls.certFile) } : {}),
    onConnect(session, callback) {
      if (trusted(session.remoteAddress)) return callback();
      const refused = limits.admit(session.id, session.remoteAddress);
      if (refused) {
        logger.warn({ event: 'smtp.connection_refused', sessionId: session.id, remoteAddress: session.remoteAddress, reason: refused }, 'connection refused');
        deps.metrics.refused.labels('421').inc();
        // The greeting carries no enhanced status by itself; 4.7.0 as the big providers answer it.
        return callback(new SmtpReplyError(421, `4.7.0 ${refused}`));
      }
      // A session has a time limit however busy it keeps itself (NOOP every few seconds).
      const timer = setTimeout(() => cutOff(session.id, 'session time limit reached'), config.smtp.maxSessionMs);
      timer.unref();
      sessionTimers.set(session.id, timer);
      callback();
    },
    onClose(session) {
      limits.release(session.id);
      clearTimeout(sessionTimers.get(session.id));
      sessionTimers.delete(session.id);
    },
    onRcptTo(address, session, callback) {
      const match = resolveRecipient(deps.rules(), address.address);
      if (!match) {
        logger.info(
          { event: 'smtp.rcpt_rejected', sessionId: session.id, untrusted: { rcptTo: address.address } },
          'recipient refused',
        );
        deps.metrics.refused.labels('550').inc();
        return callback(new SmtpReplyError(550, `<${address.address}>: no such mailbox here`));
      }
      callback();
    },
    onData(stream, session, callback) {
      void receive(stream, session).then(
        (reply) => callback(null, reply),
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
    },
  };

  async function receive(stream: NodeJS.ReadableStream, session: SMTPServerSession): Promise<string> {
    const started = process.hrtime.bigint();
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const envelope = {
      mailFrom,
      rcptTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
      clientAddress: session.remoteAddress,
      clientHelo: session.hostNameAppearsAs || null,
      tls: session.secure,
      receivedAt: new Date(),
    };
    const structure = createStructureWatch(config.smtp.structure);
    const rate = watchDataRate(session.id);
    const result = await spoolMessage(deps.db, stream as Readable, envelope, config.smtp.maxMessageBytes, batcher, structure, rate.received).finally(rate.stop);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.kind === 'too_big') {
      logger.info({ event: 'smtp.message_too_big', sessionId: session.id, bytes: result.sizeBytes }, 'message over the size limit');
      deps.metrics.refused.labels('552').inc();
      // smtp-server replies 552 5.3.4 because rejectOversized is on; this is the same answer.
      throw new SmtpReplyError(552, 'Message exceeds fixed maximum message size');
    }
    if (result.kind === 'refused') {
      logger.info({ event: 'smtp.message_refused', sessionId: session.id, bytes: result.sizeBytes, reason: result.reason }, 'message structure over the limits');
      deps.metrics.refused.labels('554').inc();
      // Permanent: the same bytes would be refused again. smtp-server adds 5.6.0 (a problem with the content).
      throw new SmtpReplyError(554, `Message refused: ${result.reason}`);
    }
    if (result.kind === 'storage_failed') {
      intakeHealth.failed(result.error);
      logger.error({ event: 'smtp.spool_failed', sessionId: session.id, bytes: result.sizeBytes, ms, err: result.error }, 'could not store message');
      deps.metrics.refused.labels('451').inc();
      throw new SmtpReplyError(451, 'Local error in processing, please try again later');
    }
    logger.debug(
      { event: 'message.queued', sessionId: session.id, inboundId: result.inboundId, bytes: result.sizeBytes, rcpts: envelope.rcptTo.length, ms },
      'message stored',
    );
    summary.stored(result.sizeBytes);
    intakeHealth.stored();
    deps.metrics.received.inc();
    deps.onStored(result.inboundId);
    return `Message queued as ${result.inboundId}`;
  }

  const trusted = createAddressRanges(config.smtp.trustedRelays);
  const limits = createSessionLimits({
    maxPerAddress: config.smtp.maxConnectionsPerAddress,
    maxPerAddressPerMinute: config.smtp.maxConnectionsPerAddressPerMinute,
    minDataBytesPerSecond: config.smtp.minDataBytesPerSecond,
    dataGraceMs: config.smtp.dataGraceMs,
  });
  const sessionTimers = new Map<string, NodeJS.Timeout>();

  /**
   * Ends a session with 421 4.4.2 (RFC 5321 §4.2.3: the service closes the channel). A message
   * still arriving is dropped unstored: its sender was never told 250 and will try again.
   */
  function cutOff(sessionId: string, reason: string): void {
    const connection = [...(server.connections as Set<SmtpConnection>)].find((c) => c.id === sessionId);
    if (!connection) return;
    logger.warn({ event: 'smtp.session_cut_off', sessionId, remoteAddress: connection.remoteAddress, reason }, 'session cut off');
    deps.metrics.refused.labels('421').inc();
    connection.send(421, `${reason}, closing connection`);
    connection.close();
    // A client that keeps sending never reads the close; do not wait for it.
    setTimeout(() => connection._socket?.destroy(), 1000).unref();
  }

  /**
   * Cuts the session off when its message arrives too slowly, reading the byte count the spool
   * writer keeps (no stream of its own in between: one per message cost more than the check).
   */
  function watchDataRate(sessionId: string): { received: { bytes: number }; stop: () => void } {
    const received = { bytes: 0 };
    if (config.smtp.minDataBytesPerSecond === 0) return { received, stop: () => undefined };
    const started = Date.now();
    const check = setInterval(() => {
      if (limits.tooSlow(received.bytes, Date.now() - started)) cutOff(sessionId, 'message arriving too slowly');
    }, Math.min(5_000, config.smtp.dataGraceMs));
    check.unref();
    return { received, stop: () => clearInterval(check) };
  }

  const batcher = createSpoolBatcher(deps.db);
  const intakeHealth = createIntakeHealth();
  const summary = createIntakeSummary(logger);
  const server = new SMTPServer(options);
  // A listen failure is not logged here: the caller reports it, naming the port (app.ts).
  let listenPending = false;
  server.on('error', (err) => {
    if (!listenPending) logger.warn({ event: 'smtp.error', err }, 'smtp server error');
  });

  return {
    listen: () =>
      new Promise((resolve, reject) => {
        listenPending = true;
        const onError = (err: Error): void => {
          listenPending = false;
          reject(err);
        };
        server.server.once('error', onError);
        server.listen(config.smtp.port, config.smtp.host, () => {
          listenPending = false;
          server.server.off('error', onError);
          resolve((server.server.address() as AddressInfo).port);
        });
      }),
    close: () =>
      new Promise((resolve) =>
        server.close(() => {
          summary.flush();
          resolve();
        }),
      ),
    health: () => intakeHealth.status(),
  };
}
