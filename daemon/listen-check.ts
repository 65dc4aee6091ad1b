import net from 'node:net';
import type { Config } from './config.js';

/** A port the daemon listens on, named by the variable that sets it. */
interface Listener {
  variable: 'MAILROOM_SMTP_PORT' | 'MAILROOM_HTTP_PORT';
  host: string;
  port: number;
}

/** Why `listen` failed, in an operator's words: `port 2525 on 127.0.0.1 is in use`. */
export function listenProblem(err: unknown, host: string, port: number): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is in use`;
    case 'EACCES':
      return `port ${port} on ${host}: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)`;
    case 'EADDRNOTAVAIL':
      return `${host} is not an address of this machine`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${host} does not resolve to an address`;
    default:
      return `port ${port} on ${host}: ${(err as Error).message}`;
  }
}

function listen(listener: Listener): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(listener.port, listener.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * Binds each port the daemon would listen on and closes it again, for `config check`: start would
 * fail on a port in use only after opening the database. Port 0 (any free port) cannot fail and is
 * skipped. Both are held together, so SMTP and HTTP on the same port is found too.
 */
export async function checkPortsFree(config: Config): Promise<string[]> {
  const listeners: Listener[] = [
    { variable: 'MAILROOM_SMTP_PORT', host: config.smtp.host, port: config.smtp.port },
    { variable: 'MAILROOM_HTTP_PORT', host: config.http.host, port: config.http.port },
  ];
  const held: net.Server[] = [];
  const problems: string[] = [];
  try {
    for (const listener of listeners.filter((l) => l.port !== 0)) {
      try {
        held.push(await listen(listener));
      } catch (err) {
        const sameAsSmtp = listener.variable === 'MAILROOM_HTTP_PORT' && listener.port === config.smtp.port;
        problems.push(`${listener.variable}: ${listenProblem(err, listener.host, listener.port)}${sameAsSmtp ? ' (MAILROOM_SMTP_PORT is the same port)' : ''}`);
      }
    }
  } finally {
    await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
  }
  return problems;
}
