import net from 'node:net';

/** A TCP proxy the test can cut and restore, to make a real server unreachable on demand. */
export interface TcpProxy {
  port: number;
  /** Refuses new connections and drops the open ones. */
  cut(): Promise<void>;
  restore(): Promise<void>;
  /**
   * A half-open network: connections stay open, new ones are accepted, and nothing is forwarded
   * either way (what a partition or a proxy that forgot the flow looks like) until `unsilence`.
   */
  silence(): void;
  unsilence(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const pairs = new Set<[net.Socket, net.Socket]>();
  let silent = false;
  let server: net.Server | null = null;
  let port = 0;
  const forward = ([client, upstream]: [net.Socket, net.Socket]): void => void client.pipe(upstream).pipe(client);
  const hold = ([client, upstream]: [net.Socket, net.Socket]): void => {
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.pause();
    upstream.pause();
  };
  const listen = async (): Promise<void> => {
    server = net.createServer((client) => {
      const upstream = net.connect(targetPort, targetHost);
      const pair: [net.Socket, net.Socket] = [client, upstream];
      pairs.add(pair);
      for (const socket of pair) {
        sockets.add(socket);
        socket.on('close', () => {
          sockets.delete(socket);
          pairs.delete(pair);
        });
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      if (silent) client.pause();
      else forward(pair);
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server!.address() as net.AddressInfo).port;
  };
  const stop = async (): Promise<void> => {
    const closing = server;
    server = null;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  };
  await listen();
  return {
    get port() {
      return port;
    },
    cut: stop,
    restore: listen,
    close: stop,
    silence() {
      silent = true;
      for (const pair of pairs) hold(pair);
    },
    unsilence() {
      silent = false;
      for (const pair of pairs) forward(pair);
    },
  };
}

/** A proxy in front of the real-mode PostgreSQL server (the port of DATABASE_URL on 127.0.0.1). */
export function startDatabaseProxy(): Promise<TcpProxy> {
  return startTcpProxy('127.0.0.1', Number(new URL(process.env.DATABASE_URL!).port || 5432));
}

/** The same database URL, reached through `proxy` (for startTestApp's rewriteDatabaseUrl). */
export function viaProxy(url: string, proxy: TcpProxy): string {
  const rewritten = new URL(url);
  rewritten.hostname = '127.0.0.1';
  rewritten.port = String(proxy.port);
  return rewritten.toString();
}
