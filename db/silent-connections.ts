import type net from 'node:net';

/**
 * Which of a client's sockets owe it an answer and have been silent too long. A PostgreSQL
 * connection owes one ReadyForQuery for every Sync or simple Query it was sent; the server's
 * statement_timeout makes each come in bounded time, so a socket that owes one and has read
 * nothing for longer than that is talking to a peer that is gone (a partition, a proxy or NAT
 * that dropped the flow) and TCP may not notice for hours.
 */
export interface SilentConnections {
  /** Wraps the client's socket function so every socket it opens is watched. */
  watch<T>(open: (target: T) => net.Socket): (target: T) => net.Socket;
  /** Closes with `reason` every socket that owes an answer and has read nothing for `silentMs`. */
  closeSilent(silentMs: number, reason: () => Error): void;
}

const SYNC = 0x53; // 'S', frontend
const QUERY = 0x51; // 'Q', frontend
const READY_FOR_QUERY = 0x5a; // 'Z', backend

interface Watched {
  socket: net.Socket;
  owed: number;
  /** When the socket last read anything, or began to owe an answer, whichever is later. */
  quietSince: number;
}

export function createSilentConnections(): SilentConnections {
  const sockets = new Set<Watched>();
  return {
    watch(open) {
      return (target) => {
        const socket = open(target);
        const watched: Watched = { socket, owed: 0, quietSince: Date.now() };
        sockets.add(watched);
        // The startup packet has no type byte; every message after it has one.
        const sent = messageScanner(true, (type) => {
          if (type !== SYNC && type !== QUERY) return;
          if (watched.owed === 0) watched.quietSince = Date.now();
          watched.owed += 1;
        });
        const received = messageScanner(false, (type) => {
          if (type === READY_FOR_QUERY && watched.owed > 0) watched.owed -= 1;
        });
        const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
        let first = true;
        socket.write = ((chunk: unknown, ...rest: unknown[]) => {
          if (first && chunk instanceof Uint8Array && isSslRequest(chunk)) {
            // What follows is TLS: its bytes are not protocol messages, so this socket is not judged.
            sockets.delete(watched);
            socket.write = write as typeof socket.write;
          } else if (chunk instanceof Uint8Array) sent(chunk);
          first = false;
          return write(chunk, ...rest);
        }) as typeof socket.write;
        socket.on('data', (chunk: Buffer) => {
          watched.quietSince = Date.now();
          received(chunk);
        });
        socket.once('close', () => sockets.delete(watched));
        return socket;
      };
    },
    closeSilent(silentMs, reason) {
      const now = Date.now();
      for (const watched of sockets) {
        if (watched.owed === 0 || now - watched.quietSince < silentMs) continue;
        sockets.delete(watched);
        watched.socket.destroy(reason());
      }
    },
  };
}

const SSL_REQUEST_CODE = 80877103;

function isSslRequest(chunk: Uint8Array): boolean {
  return chunk.length === 8 && Buffer.from(chunk.buffer, chunk.byteOffset, 8).readInt32BE(4) === SSL_REQUEST_CODE;
}

/**
 * Calls `onMessage` with the type byte of every protocol message in a byte stream cut anywhere:
 * a type byte, a 4-byte length that counts itself, then the body.
 */
export function messageScanner(startsWithUntypedMessage: boolean, onMessage: (type: number) => void): (chunk: Uint8Array) => void {
  let untyped = startsWithUntypedMessage;
  // a header cut by the end of a chunk waits here for the rest
  let carried: number[] = [];
  let skip = 0;
  return (chunk) => {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    let at = 0;
    while (at < bytes.length) {
      if (skip > 0) {
        const taken = Math.min(skip, bytes.length - at);
        skip -= taken;
        at += taken;
        continue;
      }
      const headerSize = untyped ? 4 : 5;
      let type: number;
      let length: number;
      if (carried.length === 0 && bytes.length - at >= headerSize) {
        type = bytes[at]!;
        length = bytes.readInt32BE(untyped ? at : at + 1);
        at += headerSize;
      } else {
        while (carried.length < headerSize && at < bytes.length) carried.push(bytes[at++]!);
        if (carried.length < headerSize) return;
        const header = Buffer.from(carried);
        type = header[0]!;
        length = header.readInt32BE(untyped ? 0 : 1);
        carried = [];
      }
      if (!untyped) onMessage(type);
      skip = length - 4;
      untyped = false;
    }
  };
}
