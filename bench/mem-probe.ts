// Where the memory of one large message goes, step by step, using the daemon's own modules on a
// migrated PostgreSQL database (bench/run.sh c runs it; or by hand):
//   node --expose-gc --import tsx bench/mem-probe.ts DATABASE_URL MESSAGE.eml RULES.yaml
// The message (LF line ends are turned into CRLF, as on the wire) is (1) spooled by spoolMessage
// from a stream of 64 KiB pieces, (2) processed by the real job handler (createInboundProcessor),
// then, to attribute that, (3) the same steps one at a time: loadInboundRaw, parseMessage, and
// the attachment INSERT (db/articles.ts insertAttachments, in a transaction rolled back). For each step: the
// peak growth over the level before it (RSS, and V8 heap + external/array buffers), sampled every
// 5 ms, with a full GC between steps. Prints one JSON line.
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { openDatabase } from '../db/client.js';
import { claimInbound, loadInboundRaw } from '../db/inbound.js';
import { attachmentBlobs } from '../db/schema.js';
import { insertAttachments } from '../db/articles.js';
import { SPOOL_CHUNK_BYTES, spoolMessage } from '../daemon/smtp/spool-writer.js';
import { createInboundProcessor } from '../daemon/pipeline/process-inbound.js';
import { createRulesStore } from '../daemon/rules-store.js';
import { createMetrics } from '../daemon/metrics.js';
import { createLogger } from '../daemon/logger.js';
import { parseMessage, readAttachmentContents } from '../parsers/message.js';

const [url, file, rulesFile] = process.argv.slice(2);
if (!url || !file || !rulesFile) {
  console.error('usage: node --expose-gc --import tsx bench/mem-probe.ts DATABASE_URL MESSAGE.eml RULES.yaml');
  process.exit(2);
}
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const MiB = 1024 * 1024;
const mem = () => {
  const m = process.memoryUsage();
  return { rss: m.rss, js: m.heapUsed + m.external };
};

async function step<T>(name: string, fn: () => Promise<T>, results: Record<string, unknown>): Promise<T> {
  gc!();
  await new Promise((r) => setTimeout(r, 50));
  gc!();
  const before = mem();
  let peak = { ...before };
  const timer = setInterval(() => {
    const m = mem();
    if (m.rss > peak.rss) peak.rss = m.rss;
    if (m.js > peak.js) peak.js = m.js;
  }, 5);
  const t0 = Date.now();
  const value = await fn();
  clearInterval(timer);
  const after = mem();
  peak = { rss: Math.max(peak.rss, after.rss), js: Math.max(peak.js, after.js) };
  results[name] = {
    ms: Date.now() - t0,
    rss_before_mib: +(before.rss / MiB).toFixed(1),
    rss_peak_growth_mib: +((peak.rss - before.rss) / MiB).toFixed(1),
    js_heap_external_peak_growth_mib: +((peak.js - before.js) / MiB).toFixed(1),
  };
  return value;
}

const message = Buffer.from(readFileSync(file, 'latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
const database = await openDatabase({ url, poolSize: 4 });
const db = database.db;
const logger = createLogger('silent');
const rules = await createRulesStore(rulesFile, logger);
const results: Record<string, unknown> = { message_bytes: message.length };

const envelope = { mailFrom: 'sender@bench.example.test', rcptTo: ['rcpt@bench.example.test'], clientAddress: '127.0.0.1', clientHelo: 'probe', tls: false, receivedAt: new Date() };
const pieces = function* () {
  for (let i = 0; i < message.length; i += 64 * 1024) yield message.subarray(i, i + 64 * 1024);
};
const spooled = await step(`1 spoolMessage (stream in, ${SPOOL_CHUNK_BYTES / 1024} KiB chunk rows)`, () => spoolMessage(db, Readable.from(pieces()), envelope, 64 * MiB), results);
if (spooled.kind !== 'stored') throw new Error(`spool failed: ${spooled.kind}`);
const id = spooled.inboundId;

const processor = createInboundProcessor({
  db, logger, rules: () => rules.current(), secret: 'bench-secret-0123456789abcdef0123456789abcdef',
  maxAttempts: 5, softBounceLimit: 10, metrics: createMetrics(), onDeliveryQueued: () => {},
});
await step('2 whole job: createInboundProcessor(id)', () => processor(id), results);

// attribution: the same bytes again, one step at a time (the row is already processed; these
// steps only read it and store a blob under another hash, which is removed afterwards)
const row = { id, raw: null, sizeBytes: spooled.sizeBytes, chunkCount: Math.ceil(spooled.sizeBytes / SPOOL_CHUNK_BYTES) };
let raw: Buffer | null = await step('3a loadInboundRaw (chunks read back)', () => loadInboundRaw(db, row), results);
let parsed = await step('3b parseMessage (attachment bytes not held, as for messages over 1 MiB)', () => parseMessage(raw!, { keepAttachmentContent: false }), results);
if (!parsed.ok) throw new Error(parsed.error);
const att = parsed.message.attachments[0];
results.attachment_bytes = att?.size ?? 0;
if (att) {
  // under a hash of its own, in a transaction rolled back afterwards (no article to point at)
  const probe = { ...att, sha256: `probe-${Date.now()}` };
  await step('3c attachment bytes streamed into slices (insertAttachments, second parse)', () =>
    db.transaction(async (tx) => {
      await insertAttachments(tx, -1, [probe], (parts, onPiece) => readAttachmentContents(raw!, parts, onPiece)).catch(() => undefined);
      tx.rollback();
    }).catch(() => undefined), results);
  await database.db.delete(attachmentBlobs).where((await import('drizzle-orm')).eq(attachmentBlobs.sha256, probe.sha256));
}
parsed = null as never;
raw = null;
void claimInbound;
await database.close();
console.log(JSON.stringify(results));
