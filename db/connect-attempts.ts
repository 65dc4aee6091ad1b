import type net from 'node:net';

/** Connections in a row a server may accept and close without a word before the waiting query fails. */
export const MAX_UNANSWERED_CONNECTS = 3;

/** What postgres.js passes to its `socket` option. */
export interface SocketTarget {
  host: string[];
  port: number[];
  path?: string | false;
}

/**
 * postgres.js reconnects at once, and again without end, while a query waits for a connection
 * that the server accepts and closes before answering: what a container's port proxy or a load
 * balancer does while the database behind it is down. The query never settles and the process
 * spins. This counts those connections; after MAX_UNANSWERED_CONNECTS in a row the next one fails
 * with an error that says so, which postgres.js hands to the waiting query. A refused connection
 * (nothing listening) already fails the query by itself and is not counted.
 */
export function boundConnectAttempts(open: (target: SocketTarget) => net.Socket): (target: SocketTarget) => net.Socket {
  let unansweredInARow = 0;
  return (target) => {
    const socket = open(target);
    if (unansweredInARow >= MAX_UNANSWERED_CONNECTS) {
      unansweredInARow = 0;
      const where = target.path || `${target.host[0]}:${target.port[0]}`;
      const error = new Error(
        `${where} accepted the connection and closed it without answering, ${MAX_UNANSWERED_CONNECTS} times in a row (a proxy or load balancer in front of a database that is down?)`,
      );
      // postgres.js awaits this function and then listens for errors: fail after that.
      setImmediate(() => socket.destroy(error));
      return socket;
    }
    let connected = false;
    socket.once('connect', () => (connected = true));
    socket.once('close', () => {
      if (socket.bytesRead > 0) unansweredInARow = 0;
      else if (connected) unansweredInARow += 1;
    });
    return socket;
  };
}
