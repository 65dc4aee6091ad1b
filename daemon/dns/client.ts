import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { isIP, Socket } from 'node:net';
import dnsPacket, { type DecodedPacket, type Packet, type RecordType } from 'dns-packet';

export interface DnsServer {
  host: string;
  port: number;
}

/** `host`, `host:port`, `[v6]:port` or a bare IPv6 address, as MAILROOM_DNS_SERVERS and dns.getServers() write them. */
export function parseServer(server: string): DnsServer {
  const bracketed = /^\[(.+)\](?::(\d+))?$/.exec(server);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2] ?? 53) };
  if (isIP(server) === 6) return { host: server, port: 53 };
  const [host, port] = server.split(':');
  return { host: host!, port: Number(port ?? 53) };
}

/**
 * Asks one server one question and gives its reply, whatever the rcode: over UDP with EDNS0 (so a
 * DKIM key fits one datagram), again over TCP when the reply says it was truncated. Rejects with
 * code ETIMEOUT when no reply came within `timeoutMs`, or the socket's error code.
 */
export async function exchange(server: DnsServer, name: string, type: RecordType, timeoutMs: number): Promise<DecodedPacket> {
  const deadline = performance.now() + timeoutMs;
  const udpReply = await overUdp(server, query(name, type), timeoutMs);
  if (!udpReply.flag_tc) return udpReply;
  return overTcp(server, query(name, type), Math.max(0, deadline - performance.now()));
}

function query(name: string, type: RecordType): Packet {
  return {
    type: 'query',
    // A random id (and a fresh socket, so a random port) make a forged reply hard to guess.
    id: randomInt(0x10000),
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
  };
}

/** A reply to some other query, or one forged without seeing ours, is not the answer. */
function answers(sent: Packet, reply: DecodedPacket): boolean {
  const asked = sent.questions![0]!;
  const echoed = reply.questions?.[0];
  return (
    reply.type === 'response' &&
    reply.id === sent.id &&
    echoed?.name.toLowerCase() === asked.name.replace(/\.$/, '').toLowerCase() &&
    echoed.type === asked.type &&
    echoed.class === asked.class
  );
}

function transportError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function overUdp(server: DnsServer, sent: Packet, timeoutMs: number): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    // Connected: the kernel drops datagrams from anyone but the server.
    const socket = dgram.createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
    let done = false;
    const finish = (err: Error | null, reply?: DecodedPacket) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(() => finish(transportError('ETIMEOUT', `no answer from ${server.host}:${server.port}`)), timeoutMs);
    socket.on('error', (err) => finish(err));
    socket.on('message', (message) => {
      let reply: DecodedPacket;
      try {
        reply = dnsPacket.decode(message);
      } catch {
        return;
      }
      if (answers(sent, reply)) finish(null, reply);
    });
    socket.connect(server.port, server.host, () => socket.send(dnsPacket.encode(sent)));
  });
}

function overTcp(server: DnsServer, sent: Packet, timeoutMs: number): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (err: Error | null, reply?: DecodedPacket) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(() => finish(transportError('ETIMEOUT', `no answer from ${server.host}:${server.port} over TCP`)), timeoutMs);
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(transportError('ECONNRESET', `${server.host}:${server.port} closed the TCP connection without an answer`)));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      // Each message is prefixed by its length in two bytes.
      while (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        const frame = received.subarray(0, 2 + received.readUInt16BE(0));
        received = received.subarray(frame.length);
        let reply: DecodedPacket;
        try {
          reply = dnsPacket.streamDecode(frame) as DecodedPacket;
        } catch {
          continue;
        }
        if (answers(sent, reply)) return finish(null, reply);
      }
    });
    socket.connect(server.port, server.host, () => socket.write(dnsPacket.streamEncode(sent)));
  });
}
