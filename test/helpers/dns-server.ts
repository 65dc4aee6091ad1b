import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';

type RecordType = 'TXT' | 'A' | 'MX';

/**
 * A DNS server on 127.0.0.1 for the daemon's sender checks, serving what a test sets. By default
 * every domain has an SPF record that passes mail from loopback, and no DMARC or DKIM records.
 */
export interface TestDns {
  address: string;
  set(name: string, type: RecordType, values: string[]): void;
  remove(name: string, type: RecordType): void;
  /** Questions about names under this domain are never answered, like a dead name server's. */
  silence(domain: string): void;
  close(): Promise<void>;
}

export const LOOPBACK_SPF = 'v=spf1 ip4:127.0.0.0/8 -all';

export async function startTestDns(): Promise<TestDns> {
  const records = new Map<string, string[]>();
  const silenced = new Set<string>();
  const socket = dgram.createSocket('udp4');
  socket.on('message', (message, remote) => {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    if (!question) return;
    const name = question.name.toLowerCase();
    if ([...silenced].some((domain) => name === domain || name.endsWith(`.${domain}`))) return;
    const explicit = records.get(`${question.type} ${name}`);
    const fallback = question.type === 'TXT' && !name.startsWith('_dmarc.') && !name.includes('._domainkey.') && !name.startsWith('_') ? [LOOPBACK_SPF] : undefined;
    const values = explicit ?? fallback;
    const answers = (values ?? []).map((value) =>
      question.type === 'TXT'
        ? { type: 'TXT' as const, name: question.name, ttl: 60, data: chunks(value) }
        : question.type === 'MX'
          ? { type: 'MX' as const, name: question.name, ttl: 60, data: { preference: 10, exchange: value } }
          : { type: 'A' as const, name: question.name, ttl: 60, data: value },
    );
    const reply = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (values ? 0 : 3), // rcode 3: NXDOMAIN
      questions: [question],
      answers,
    });
    socket.send(reply, remote.port, remote.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  return {
    address: `127.0.0.1:${port}`,
    set: (name, type, values) => void records.set(`${type} ${name.toLowerCase()}`, values),
    remove: (name, type) => void records.delete(`${type} ${name.toLowerCase()}`),
    silence: (domain) => void silenced.add(domain.toLowerCase()),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** TXT strings are at most 255 bytes each; long records (DKIM keys) are split. */
function chunks(value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < value.length; i += 255) out.push(value.slice(i, i + 255));
  return out;
}
