// What sending one auto-reply costs the database, using the daemon's own sender on a migrated
// PostgreSQL database (by hand; it adds rows and removes none, so use a scratch database):
//   node --import tsx bench/send-statements.ts DATABASE_URL [DELIVERIES] [accept|refuse-one]
// Queues DELIVERIES (default 500) deliveries of one recipient each (two with refuse-one, one of
// them refused with 550 at RCPT), then runs the send job of each, one after the other, against a
// relay that answers at once. Prints one JSON line: PostgreSQL socket writes (each statement, and
// BEGIN and COMMIT, is one write and one round trip) and main-thread CPU per delivery.
import net from 'node:net';
import { createLogger } from '../daemon/logger.js';
import { createMetrics } from '../daemon/metrics.js';
import { createDeliverySender } from '../daemon/outbound/send-delivery.js';
import type { OutboundTransport } from '../daemon/outbound/transport.js';
import { openDatabase } from '../db/client.js';
import { allocateDeliveryIds, insertDelivery } from '../db/deliveries.js';
import { migrateDatabase } from '../db/migrate.js';
import { createTicket, upsertContact } from '../db/tickets.js';

const [url, countArg, mode = 'accept'] = process.argv.slice(2);
if (!url) throw new Error('usage: bench/send-statements.ts DATABASE_URL [DELIVERIES] [accept|refuse-one]');
const count = Number(countArg ?? 500);

let writes = 0;
const write = net.Socket.prototype.write;
net.Socket.prototype.write = function countedWrite(this: net.Socket, ...args: Parameters<net.Socket['write']>) {
  if (this.remotePort === Number(new URL(url).port || 5432)) writes += 1;
  return write.apply(this, args);
} as typeof write;

const database = await openDatabase({ url, poolSize: 1, copyConnections: 1 });
await migrateDatabase(database, url);
const db = database.db;
const requesterId = await upsertContact(db, 'ana@client.example', 'Ana');
const ticket = await createTicket(db, { subject: 'Printer', mailbox: 'desk@example.com', requesterId, category: null, linkedTicketId: null });
const ids: number[] = [];
for (let i = 0; i < count; i++) {
  const { deliveryId } = await allocateDeliveryIds(db);
  const to = mode === 'refuse-one' ? ['ana@client.example', `nobody${i}@client.example`] : ['ana@client.example'];
  await insertDelivery(
    db,
    deliveryId,
    { ticketId: ticket.id, kind: 'acknowledgement', mailbox: 'desk@example.com', messageId: `bench-${deliveryId}-${Date.now()}@example.com`, fromName: 'Desk', replyTo: 'desk@example.com', subject: 'Received: Printer', textBody: 'Ticket 1.', references: [] },
    to,
  );
  ids.push(deliveryId);
}

const transport: OutboundTransport = {
  kind: 'relay',
  async send(mail) {
    const address = mail.envelope.to[0]!;
    if (address.startsWith('nobody')) return { accepted: [], rejected: [{ address, code: 550, response: '550 5.1.1 No such user' }] };
    return { accepted: [{ address, response: '250 2.0.0 Ok' }], rejected: [] };
  },
  close() {},
};
const send = createDeliverySender({
  db,
  metrics: createMetrics(),
  softBounceLimit: 3,
  logger: createLogger('warn'),
  transport,
  secret: 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz',
  hostname: 'mailroom.bench',
  lifetime: { maxAgeMs: 86_400_000, retryMinMs: 60_000, retryMaxMs: 3_600_000 },
});
// Warm up (prepared statements, JIT) on the first tenth, measure the rest.
const warm = Math.max(1, Math.floor(count / 10));
for (const id of ids.slice(0, warm)) await send(id);
writes = 0;
const cpu = process.cpuUsage();
const started = performance.now();
for (const id of ids.slice(warm)) await send(id);
const used = process.cpuUsage(cpu);
const measured = count - warm;
process.stdout.write(
  `${JSON.stringify({
    mode,
    deliveries: measured,
    pg_writes_per_delivery: Number((writes / measured).toFixed(2)),
    cpu_ms_per_delivery: Number(((used.user + used.system) / 1000 / measured).toFixed(3)),
    wall_ms_per_delivery: Number(((performance.now() - started) / measured).toFixed(3)),
  })}\n`,
);
await database.close();
