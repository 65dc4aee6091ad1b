import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';

type RecordType = 'TXT' | 'A' | 'AAAA' | 'MX';
type Transport = 'udp' | 'tcp';

/**
 * A DNS server on 127.0.0.1 for the daemon's sender checks, serving what a test sets, over UDP and
 * TCP on the same port. By default every domain has an SPF record that passes mail from loopback,
 * and no DMARC or DKIM records; other names do not exist (NXDOMAIN).
 */
export interface TestDns {
  address: string;
  /** The name's records of this type, with this TTL (60 s unless given); no values: the name exists without them (NODATA). */
  set(name: string, type: RecordType, values: string[], options?: { ttl?: number }): void;
  remove(name: string, type: RecordType): void;
  /** Questions about names under this domain are never answered, like a dead name server's. */
  silence(domain: string): void;
  /** Negative replies for names under this domain carry its SOA, which bounds how long they are cached (RFC 2308). */
  soa(domain: string, fields: { minimum: number; ttl?: number }): void;
  /** UDP replies about this name come back truncated (TC) and empty: the answer only over TCP. */
  truncate(name: string): void;
  /** Before each reply about this name, a forged one with these values: for another query id, or another question. */
  forge(name: string, values: string[], mismatch: 'id' | 'question'): void;
  /** How many questions about this name arrived, answered or not (only of `type`, over `transport`, when given). */
  queries(name: string, filter?: { type?: RecordType; transport?: Transport }): number;
  close(): Promise<void>;
}

export const LOOPBACK_SPF = 'v=spf1 ip4:127.0.0.0/8 -all';

export async function startTestDns(): Promise<TestDns> {
  const records = new Map<string, { values: string[]; ttl: number }>();
  const silenced = new Set<string>();
  const soas = new Map<string, { minimum: number; ttl?: number }>();
  const truncated = new Set<string>();
  const forged = new Map<string, { values: string[]; mismatch: 'id' | 'question' }>();
  const received: Array<{ name: string; type: string; transport: Transport }> = [];
  const under = (name: string, domain: string) => name === domain || name.endsWith(`.${domain}`);

  /** The packets to send back for a query: none when silenced, else maybe a forgery, then the reply. */
  const respond = (message: Buffer, transport: Transport): Buffer[] => {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return [];
    }
    const question = query.questions?.[0];
    if (!question) return [];
    const name = question.name.toLowerCase();
    received.push({ name, type: question.type, transport });
    if ([...silenced].some((domain) => under(name, domain))) return [];
    const explicit = records.get(`${question.type} ${name}`);
    const fallback = question.type === 'TXT' && !name.startsWith('_dmarc.') && !name.includes('._domainkey.') && !name.startsWith('_') ? { values: [LOOPBACK_SPF], ttl: 60 } : undefined;
    const found = explicit ?? fallback;
    const answers = (values: string[], ttl: number) => values.map((value) => answer(question, value, ttl));
    const zone = [...soas.keys()].filter((domain) => under(name, domain)).sort((a, b) => b.length - a.length)[0];
    const soa = zone === undefined ? undefined : soas.get(zone)!;
    const reply: dnsPacket.Packet = {
      type: 'response',
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (found ? 0 : 3), // rcode 3: NXDOMAIN
      questions: [question],
      answers: found ? answers(found.values, found.ttl) : [],
      authorities:
        soa && (!found || found.values.length === 0)
          ? [{ type: 'SOA', name: zone!, ttl: soa.ttl ?? 3600, data: { mname: `ns.${zone}`, rname: `hostmaster.${zone}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: soa.minimum } }]
          : [],
    };
    const out: Buffer[] = [];
    const forgery = forged.get(name);
    if (forgery) {
      const id = forgery.mismatch === 'id' ? (query.id! + 1) % 0x10000 : query.id;
      const asked = forgery.mismatch === 'question' ? { ...question, name: `forged.${question.name}` } : question;
      out.push(dnsPacket.encode({ ...reply, id, flags: dnsPacket.AUTHORITATIVE_ANSWER, questions: [asked], answers: answers(forgery.values, 60), authorities: [] }));
    }
    let encoded = dnsPacket.encode(reply);
    // Over UDP, a reply larger than the client said it takes (512 bytes without EDNS0) is cut, as real servers do.
    const opt = query.additionals?.find((record) => record.type === 'OPT') as { udpPayloadSize?: number } | undefined;
    const limit = Math.max(512, opt?.udpPayloadSize ?? 512);
    if (transport === 'udp' && (truncated.has(name) || encoded.length > limit)) {
      encoded = dnsPacket.encode({ ...reply, flags: reply.flags! | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [] });
    }
    out.push(encoded);
    return out;
  };

  const { udp, tcp, port } = await listen(respond);
  return {
    address: `127.0.0.1:${port}`,
    set: (name, type, values, options) => void records.set(`${type} ${name.toLowerCase()}`, { values, ttl: options?.ttl ?? 60 }),
    remove: (name, type) => void records.delete(`${type} ${name.toLowerCase()}`),
    silence: (domain) => void silenced.add(domain.toLowerCase()),
    soa: (domain, fields) => void soas.set(domain.toLowerCase(), fields),
    truncate: (name) => void truncated.add(name.toLowerCase()),
    forge: (name, values, mismatch) => void forged.set(name.toLowerCase(), { values, mismatch }),
    queries: (name, filter = {}) =>
      received.filter((q) => q.name === name.toLowerCase() && (!filter.type || q.type === filter.type) && (!filter.transport || q.transport === filter.transport)).length,
    close: async () => {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      await tcp.close();
    },
  };
}

function answer(question: dnsPacket.Question, value: string, ttl: number): dnsPacket.Answer {
  switch (question.type) {
    case 'TXT':
      return { type: 'TXT', name: question.name, ttl, data: chunks(value) };
    case 'MX':
      return { type: 'MX', name: question.name, ttl, data: { preference: 10, exchange: value } };
    case 'AAAA':
      return { type: 'AAAA', name: question.name, ttl, data: value };
    default:
      return { type: 'A', name: question.name, ttl, data: value };
  }
}

/** A UDP socket and a TCP listener on one port (the port UDP got may be taken for TCP: then another). */
async function listen(respond: (message: Buffer, transport: Transport) => Buffer[]) {
  for (let attempt = 0; ; attempt++) {
    const udp = dgram.createSocket('udp4');
    udp.on('message', (message, remote) => {
      for (const packet of respond(message, 'udp')) udp.send(packet, remote.port, remote.address);
    });
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
    const { port } = udp.address();
    try {
      return { udp, tcp: await listenTcp(port, respond), port };
    } catch (err) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      if (attempt >= 10) throw err;
    }
  }
}

async function listenTcp(port: number, respond: (message: Buffer, transport: Transport) => Buffer[]) {
  const connections = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      // Messages over TCP are prefixed by their length in two bytes.
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const message = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + message.length);
        for (const packet of respond(message, 'tcp')) socket.write(Buffer.concat([lengthPrefix(packet.length), packet]));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of connections) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function lengthPrefix(length: number): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(length);
  return prefix;
}

/** TXT strings are at most 255 bytes each; long records (DKIM keys) are split. */
function chunks(value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < value.length; i += 255) out.push(value.slice(i, i + 255));
  return out;
}
