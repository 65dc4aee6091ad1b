import { randomBytes } from 'node:crypto';
import net from 'node:net';

/** What happened to one mail of a load run. */
export interface LoadMail {
  index: number;
  /** Without angle brackets, as `articles.message_id` stores it. */
  messageId: string;
  subject: string;
  raw: Buffer;
  /** DATA transactions started for this mail (a retry after a 4xx or a lost connection adds one). */
  attempts: number;
  /** Milliseconds since the run started when the 250 came, or null if none did. */
  acceptedAt: number | null;
  /** The spool id from `250 2.6.0 Message queued as <id>`. */
  spoolId: number | null;
  /** The last reply line seen for this mail, or the last connection error. */
  lastReply: string;
  /** Set when the daemon refused the mail for good (5xx): a real MTA would bounce it. */
  rejected: boolean;
}

export interface LoadResult {
  runId: string;
  /** Every Message-ID of the run starts with this. */
  messageIdPrefix: string;
  mails: LoadMail[];
  /** Every 250 in the order it arrived. */
  acks: Array<{ index: number; spoolId: number; at: number }>;
  /** How many replies of each code (and `conn` for connection errors) the run saw. */
  codes: Record<string, number>;
  /** The first 200 replies that were not 2xx/3xx and connection errors, with their time (ms since start). */
  incidents: Array<{ at: number; what: string }>;
  elapsedMs: number;
  /** The longest wait for the reply after the final dot, in ms. */
  slowestDataReplyMs: number;
  /** True when the run stopped at its deadline with mails neither accepted nor rejected. */
  timedOut: boolean;
  accepted(): LoadMail[];
  unfinished(): LoadMail[];
}

export interface LoadOptions {
  /** SMTP port, or a function asked before each connection (a restarted daemon may move). */
  port: number | (() => number);
  host?: string;
  mails: number;
  sessions: number;
  /** The run stops by itself after this long, whatever is left. */
  deadlineMs: number;
  /** A session sends this many mails, then QUITs and reconnects. @defaultValue 25 */
  mailsPerConnection?: number;
  /** Pause before retrying after a 4xx or a connection error, as an MTA's queue would. @defaultValue 250 */
  retryPauseMs?: number;
  /** Each session starts a mail at most every `paceMs`, to spread a load over a fault window. @defaultValue 0 */
  paceMs?: number;
  /** How long to wait for one reply before treating the connection as lost. @defaultValue 30 s */
  replyTimeoutMs?: number;
  from?: string;
  to?: string;
  /** Tag in every Message-ID and subject; unique per run by default. */
  runId?: string;
  /** Builds the message for mail `index`; default: a short plain-text customer question. */
  build?: (index: number, ids: { messageId: string; subject: string }) => Buffer;
  /** Stops the run early (e.g. when the daemon under test cannot come back). */
  signal?: AbortSignal;
  /** Called at every 250, e.g. to kill the daemon after the n-th acceptance. */
  onAccepted?: (mail: LoadMail, acceptedSoFar: number) => void;
}

class ConnectionLost extends Error {}

/**
 * One SMTP connection without pipelining: each command waits for its reply. Exported for tests
 * that speak SMTP badly on purpose.
 */
export class SmtpSession {
  private buffer = '';
  private closed: Error | null = null;
  private wake: (() => void) | null = null;

  private constructor(
    private readonly socket: net.Socket,
    private readonly replyTimeoutMs: number,
    private readonly hardDeadline: number,
  ) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.wake?.();
    });
    const lost = (why: string) => () => {
      this.closed ??= new ConnectionLost(why);
      this.wake?.();
    };
    socket.on('error', (err) => lost(`connection error: ${err.message}`)());
    socket.on('close', lost('connection closed'));
    socket.on('end', lost('connection closed by the server'));
  }

  static async open(host: string, port: number, replyTimeoutMs = 10_000, hardDeadline = Number.POSITIVE_INFINITY, localAddress?: string): Promise<SmtpSession> {
    const socket = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ConnectionLost('connect timed out'));
      }, Math.max(1, Math.min(replyTimeoutMs, hardDeadline - Date.now())));
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new ConnectionLost(`connect failed: ${err.message}`));
      });
    });
    return new SmtpSession(socket, replyTimeoutMs, hardDeadline);
  }

  /** Reads one whole reply; returns its last line (`250 2.6.0 Message queued as 7`). */
  async reply(): Promise<string> {
    const deadline = Math.min(Date.now() + this.replyTimeoutMs, this.hardDeadline);
    for (;;) {
      let start = 0;
      for (let end = this.buffer.indexOf('\n'); end !== -1; end = this.buffer.indexOf('\n', start)) {
        const line = this.buffer.slice(start, end).replace(/\r$/, '');
        start = end + 1;
        if (/^\d{3}(?: |$)/.test(line)) {
          this.buffer = this.buffer.slice(start);
          return line;
        }
      }
      if (this.closed) throw this.closed;
      const left = deadline - Date.now();
      if (left <= 0) throw new ConnectionLost('no reply in time');
      await this.dataOrClose(left);
    }
  }

  async command(line: string): Promise<string> {
    await this.write(`${line}\r\n`);
    return this.reply();
  }

  write(data: string | Buffer): Promise<void> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      this.socket.write(data, (err) => (err ? reject(new ConnectionLost(`write failed: ${err.message}`)) : resolve()));
    });
  }

  /** Resolves true once the server has closed the connection, false if it has not within `ms`. */
  async closedWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await this.dataOrClose(left);
    }
    return true;
  }
  /** Waits until data arrives, the connection closes, or `ms` pass. */
  private dataOrClose(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }


  close(): void {
    this.socket.destroy();
  }
}

/** RFC 5321 §4.5.2: a line that starts with a dot gets one more. */
function dotStuff(raw: Buffer): Buffer {
  const text = raw.toString('latin1');
  const stuffed = (text.startsWith('.') ? '.' : '') + text.replace(/\r\n\./g, '\r\n..');
  return Buffer.from(stuffed.endsWith('\r\n') ? stuffed : `${stuffed}\r\n`, 'latin1');
}

function defaultMessage(index: number, ids: { messageId: string; subject: string }, from: string, to: string): Buffer {
  return Buffer.from(
    [
      `From: Cliente ${index} <${from}>`,
      `To: ${to}`,
      `Subject: ${ids.subject}`,
      'Date: Sat, 21 Nov 2026 10:00:00 +0000',
      `Message-ID: <${ids.messageId}>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      `Hola, este es el mensaje número ${index} de la prueba de carga.`,
      '.Una línea que empieza con punto, para el dot-stuffing.',
      '',
    ].join('\r\n'),
    'utf8',
  );
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Sends `mails` messages over `sessions` concurrent SMTP sessions the way a relaying MTA does:
 * one command at a time (no PIPELINING), connections reused, and a mail that met a 4xx or a
 * dropped connection sent again after a short pause. A 5xx is final. Stops by itself when every
 * mail is accepted or refused, or at `deadlineMs`.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const host = options.host ?? '127.0.0.1';
  const portOf = typeof options.port === 'function' ? options.port : () => options.port as number;
  const runId = options.runId ?? randomBytes(4).toString('hex');
  const from = options.from ?? 'cliente@cliente.es';
  const to = options.to ?? 'soporte@example.com';
  const perConnection = options.mailsPerConnection ?? 25;
  const retryPauseMs = options.retryPauseMs ?? 250;
  const replyTimeoutMs = options.replyTimeoutMs ?? 30_000;
  const started = Date.now();
  const deadline = started + options.deadlineMs;

  const mails: LoadMail[] = Array.from({ length: options.mails }, (_, index) => {
    const ids = { messageId: `load-${runId}-${index}@cliente.es`, subject: `carga ${runId} #${index}` };
    return {
      index,
      ...ids,
      raw: options.build ? options.build(index, ids) : defaultMessage(index, ids, from, to),
      attempts: 0,
      acceptedAt: null,
      spoolId: null,
      lastReply: '',
      rejected: false,
    };
  });
  const acks: LoadResult['acks'] = [];
  const codes: Record<string, number> = {};
  const incidents: LoadResult['incidents'] = [];
  const count = (key: string, what?: string) => {
    codes[key] = (codes[key] ?? 0) + 1;
    if ((key === 'conn' || Number(key) >= 400) && incidents.length < 200) incidents.push({ at: Date.now() - started, what: what ?? key });
  };
  let next = 0;
  let slowestDataReplyMs = 0;

  /** Sends one mail on an open session; true when it is settled (250 or 5xx). */
  async function transact(session: SmtpSession, mail: LoadMail): Promise<boolean> {
    const step = async (line: string, expected: number): Promise<boolean> => {
      const reply = await session.command(line);
      const code = reply.slice(0, 3);
      count(code, reply);
      if (Number(code) === expected) return true;
      mail.lastReply = reply;
      if (code.startsWith('5')) mail.rejected = true;
      if (code === '421') throw new ConnectionLost(reply);
      await session.command('RSET').then((r) => count(r.slice(0, 3)));
      return false;
    };
    mail.attempts += 1;
    if (!(await step(`MAIL FROM:<${from}>`, 250))) return mail.rejected;
    if (!(await step(`RCPT TO:<${to}>`, 250))) return mail.rejected;
    if (!(await step('DATA', 354))) return mail.rejected;
    await session.write(Buffer.concat([dotStuff(mail.raw), Buffer.from('.\r\n')]));
    const sentAt = Date.now();
    const reply = await session.reply();
    slowestDataReplyMs = Math.max(slowestDataReplyMs, Date.now() - sentAt);
    const code = reply.slice(0, 3);
    count(code, reply);
    mail.lastReply = reply;
    if (code === '250') {
      const id = /queued as (\d+)/.exec(reply);
      mail.spoolId = id ? Number(id[1]) : null;
      mail.acceptedAt = Date.now() - started;
      acks.push({ index: mail.index, spoolId: mail.spoolId ?? -1, at: mail.acceptedAt });
      options.onAccepted?.(mail, acks.length);
      return true;
    }
    if (code.startsWith('5')) {
      mail.rejected = true;
      return true;
    }
    if (code === '421') throw new ConnectionLost(reply);
    return false;
  }

  async function worker(): Promise<void> {
    let mail: LoadMail | null = null;
    let session: SmtpSession | null = null;
    let sentOnConnection = 0;
    let lastStart = 0;
    while (Date.now() < deadline && !options.signal?.aborted) {
      if (!mail) {
        if (next >= mails.length) break;
        mail = mails[next++]!;
      }
      try {
        if (!session) {
          // A reply still owed at the deadline is waited for a little, not for replyTimeoutMs.
          session = await SmtpSession.open(host, portOf(), replyTimeoutMs, deadline + 5_000);
          const greeting = await session.reply();
          count(greeting.slice(0, 3), greeting);
          if (!greeting.startsWith('220')) throw new ConnectionLost(greeting);
          const ehlo = await session.command('EHLO load.cliente.es');
          count(ehlo.slice(0, 3), ehlo);
          if (!ehlo.startsWith('250')) throw new ConnectionLost(ehlo);
          sentOnConnection = 0;
        }
        const wait = lastStart + (options.paceMs ?? 0) - Date.now();
        if (wait > 0) await pause(Math.min(wait, deadline - Date.now()));
        lastStart = Date.now();
        const settled = await transact(session, mail);
        sentOnConnection += 1;
        if (settled) {
          mail = null;
        } else {
          await pause(retryPauseMs);
        }
        if (sentOnConnection >= perConnection) {
          // The server may already have gone; the connection is closed either way.
          await session.command('QUIT').catch(() => 'gone');
          session.close();
          session = null;
        }
      } catch (err) {
        // A dropped connection leaves the current mail's fate unknown to us: send it again,
        // as an MTA does; the daemon's deduplication makes the second copy harmless.
        count('conn', (err as Error).message);
        if (mail) mail.lastReply = (err as Error).message;
        session?.close();
        session = null;
        if (!(err instanceof ConnectionLost)) throw err;
        await pause(retryPauseMs);
      }
    }
    if (session) {
      await session.command('QUIT').catch(() => 'gone');
      session.close();
    }
  }

  await Promise.all(Array.from({ length: Math.max(1, options.sessions) }, () => worker()));
  const accepted = () => mails.filter((m) => m.acceptedAt !== null);
  const unfinished = () => mails.filter((m) => m.acceptedAt === null && !m.rejected);
  return { runId, messageIdPrefix: `load-${runId}-`, mails, acks, codes, incidents, elapsedMs: Date.now() - started, slowestDataReplyMs, timedOut: unfinished().length > 0, accepted, unfinished };
}

/** A port no one listens on right now, so a restarted daemon can come back on the same one. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
