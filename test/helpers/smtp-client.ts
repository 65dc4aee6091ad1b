import net from 'node:net';
import nodemailer from 'nodemailer';

export interface SendResult {
  ok: boolean;
  /** Full reply line of the last command, e.g. `250 2.6.0 Message queued as 7`. */
  response: string;
  code: number;
}

/** Sends raw bytes with a real SMTP client (nodemailer), as a relaying MTA would; `localAddress` sends from another loopback address. */
export async function sendRaw(port: number, envelope: { from: string; to: string[] }, raw: string | Buffer, options: { localAddress?: string } = {}): Promise<SendResult> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, name: 'client.test', ...options });
  try {
    const info = await transport.sendMail({ envelope, raw });
    return { ok: true, response: info.response, code: Number(info.response.slice(0, 3)) };
  } catch (err) {
    const e = err as { response?: string; responseCode?: number; message: string };
    return { ok: false, response: e.response ?? e.message, code: e.responseCode ?? 0 };
  } finally {
    transport.close();
  }
}

/** The id in `250 … queued as 42`. */
export function queuedId(result: SendResult): number {
  const match = /queued as (\d+)/.exec(result.response);
  if (!match) throw new Error(`no spool id in reply: ${result.response}`);
  return Number(match[1]);
}

/**
 * A bare SMTP dialogue for cases a polite client never produces (no SIZE declared, 101
 * recipients, raw DATA). Returns each reply, multi-line replies joined with \n.
 */
export class RawSmtp {
  private buffer = '';
  private waiters: Array<() => void> = [];
  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static async connect(port: number): Promise<{ client: RawSmtp; greeting: string }> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawSmtp(socket);
    return { client, greeting: await client.reply() };
  }

  /** Reads one complete reply (all lines up to the one with a space after the code). */
  async reply(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.buffer.split('\r\n');
      for (let i = 0; i < lines.length - 1; i += 1) {
        if (/^\d{3} /.test(lines[i]!) || /^\d{3}$/.test(lines[i]!)) {
          const replyLines = lines.slice(0, i + 1);
          this.buffer = lines.slice(i + 1).join('\r\n');
          return replyLines.join('\n');
        }
      }
      if (Date.now() > deadline) throw new Error(`no SMTP reply; buffered: ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async command(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  /** Writes message bytes (dot-stuffed by the caller if needed) and the final dot. */
  async data(body: Buffer | string): Promise<string> {
    const go = await this.command('DATA');
    if (!go.startsWith('354')) return go;
    await new Promise<void>((resolve) => this.socket.write(body, () => resolve()));
    return this.command('\r\n.');
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }
}
