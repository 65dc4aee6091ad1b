// A small SMTP load client for the mailroom benchmarks (no dependencies; loopback only).
//
// Unlike smtp-source it writes a distinct, realistic message each time: a unique Message-ID,
// a distinct customer sender, prose text of about SIZE bytes, and optionally In-Reply-To /
// References naming a Message-ID already stored (so the daemon threads it onto a ticket).
//
//   node bench/smtp-client.mjs --port P [--sessions 20] --count N                 blast: as fast as the server takes them
//   node bench/smtp-client.mjs --port P [--sessions 20] --rate R --duration S      paced: message i leaves at t0 + i/R
// Options:
//   --size BYTES        body size (default 5120; k suffix ok)
//   --replies FILE      lines "message-id<TAB>from-address" of stored articles to reply to
//   --reply-share F     fraction of messages that are replies (default 0.5 when --replies is given)
//   --tag TAG           goes into every Message-ID (default: a random one), so runs never collide
//   --rcpt ADDR         envelope and To: recipient (default rcpt@bench.example.test)
//   --timeout S         hard bound on the whole run (default 300 s); --seed N (default 1)
//   --sent FILE         write one line per accepted message: "message-id<TAB>t_data_ms<TAB>t_250_ms" (epoch ms)
// The last line printed is a JSON summary: {sent, failed, wall_s, msgs_per_s, ...}. Exit 1 on any failure.
import net from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { bodyText } from './prose.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const num = (v) => {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(String(v));
  if (!m) throw new Error(`not a number: ${v}`);
  return Number(m[1]) * (m[2] ? (/[kK]/.test(m[2]) ? 1024 : 1024 * 1024) : 1);
};
const host = '127.0.0.1';
const port = num(opt('port', '0'));
const sessions = num(opt('sessions', '20'));
const size = num(opt('size', '5120'));
const rate = opt('rate') ? num(opt('rate')) : null;
const duration = opt('duration') ? num(opt('duration')) : null;
const count = rate ? Math.round(rate * (duration ?? 30)) : num(opt('count', '1000'));
const tag = opt('tag', randomBytes(4).toString('hex'));
const rcpt = opt('rcpt', 'rcpt@bench.example.test');
const timeoutS = num(opt('timeout', '300'));
const sentFile = opt('sent');
let seed = num(opt('seed', '1')) >>> 0 || 1;
const rand = () => {
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed / 4294967296;
};
if (!port || !(count >= 1) || count > 1e6 || !(sessions >= 1 && sessions <= 500)) {
  console.error('usage: node bench/smtp-client.mjs --port P [--sessions S] (--count N | --rate R --duration S) [--size B] [--replies FILE] ...');
  process.exit(2);
}
const replies = opt('replies')
  ? readFileSync(opt('replies'), 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t'))
  : [];
const replyShare = replies.length ? Number(opt('reply-share', '0.5')) : 0;

// ---- message text: bench/prose.mjs
const bodyCache = new Map();
function message(i) {
  const reply = replyShare > 0 && rand() < replyShare ? replies[Math.floor(rand() * replies.length)] : null;
  const from = reply ? reply[1] : `customer-${tag}-${i}@client${i % 97}.example.org`;
  const id = `bench-${tag}-${i}@client.bench.example.test`;
  const head = [
    `From: Customer ${i} <${from}>`,
    `To: Support <${rcpt}>`,
    `Subject: ${reply ? 'Re: ' : ''}Widget problem ${i}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${id}>`,
    ...(reply ? [`In-Reply-To: <${reply[0]}>`, `References: <${reply[0]}>`] : []),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
  ].join('\r\n');
  const variant = i % 8;
  let body = bodyCache.get(variant);
  if (!body) bodyCache.set(variant, (body = bodyText(variant, Math.max(64, size - 400))));
  return { id, from, data: Buffer.from(`${head}\r\n\r\n${body}\r\n.\r\n`) };
}

// ---- one SMTP session: a line reader and a promise per reply
function openSession() {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    sock.setNoDelay(true);
    let buf = '';
    const waiters = [];
    let lines = [];
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        lines.push(line);
        if (line.length >= 4 && line[3] === '-') continue; // multi-line reply goes on
        const code = Number(line.slice(0, 3));
        const w = waiters.shift();
        const text = lines.join('\n');
        lines = [];
        if (w) w({ code, text });
      }
    });
    const fail = (err) => { while (waiters.length) waiters.shift()({ code: 0, text: String(err) }); };
    sock.on('error', (err) => { fail(err); reject(err); });
    sock.on('close', () => fail(new Error('connection closed')));
    const reply = () => new Promise((r) => waiters.push(r));
    const first = reply();
    sock.once('connect', async () => {
      const greet = await first;
      if (greet.code !== 220) return reject(new Error(`greeting: ${greet.text}`));
      sock.write('EHLO client.bench.example.test\r\n');
      const ehlo = await reply();
      if (ehlo.code !== 250) return reject(new Error(`EHLO: ${ehlo.text}`));
      resolve({
        async send(msg) {
          // PIPELINING: envelope and DATA in one write, then the body after 354
          const r1 = reply(), r2 = reply(), r3 = reply();
          sock.write(`MAIL FROM:<${msg.from}>\r\nRCPT TO:<${rcpt}>\r\nDATA\r\n`);
          const [a, b, c] = await Promise.all([r1, r2, r3]);
          if (a.code !== 250 || b.code !== 250 || c.code !== 354) {
            if (c.code === 354) { sock.write('.\r\n'); await reply(); }
            else sock.write('RSET\r\n'), await reply();
            return { ok: false, text: `${a.text} | ${b.text} | ${c.text}` };
          }
          const t0 = Date.now();
          const r4 = reply();
          sock.write(msg.data);
          const d = await r4;
          return { ok: d.code === 250, text: d.text, t0, t1: Date.now() };
        },
        async quit() {
          const r = reply();
          sock.write('QUIT\r\n');
          await Promise.race([r, new Promise((res) => setTimeout(res, 1000))]);
          sock.destroy();
        },
      });
    });
  });
}

const hard = setTimeout(() => {
  console.error(`smtp-client: time bound of ${timeoutS}s hit`);
  process.exit(1);
}, timeoutS * 1000);
hard.unref();

let next = 0;
let sent = 0;
let failed = 0;
let firstError = null;
let maxLate = 0;
const records = [];
let started = 0;
const intakeMs = [];

async function worker(s) {
  for (;;) {
    const i = next++;
    if (i >= count) break;
    if (rate) {
      const due = started + (i * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else maxLate = Math.max(maxLate, -wait);
    }
    const msg = message(i);
    const res = await s.send(msg);
    if (res.ok) {
      sent++;
      intakeMs.push(res.t1 - res.t0);
      if (sentFile) records.push(`${msg.id}\t${res.t0}\t${res.t1}`);
    } else {
      failed++;
      firstError ??= res.text;
    }
  }
  await s.quit();
}

try {
  // sessions are opened first (smtp-server delays every greeting by 100 ms), then the clock starts
  const open = await Promise.all(Array.from({ length: Math.min(sessions, count) }, openSession));
  started = Date.now();
  await Promise.all(open.map(worker));
} catch (err) {
  console.error(`smtp-client: ${err.message}`);
  process.exit(1);
}
const wall = (Date.now() - started) / 1000;
if (sentFile) writeFileSync(sentFile, records.join('\n') + '\n');
intakeMs.sort((a, b) => a - b);
const q = (p) => (intakeMs.length ? intakeMs[Math.min(intakeMs.length - 1, Math.floor(p * intakeMs.length))] : null);
const summary = {
  port, sessions, count, size, mode: rate ? 'paced' : 'blast', rate, tag,
  reply_share: replyShare, sent, failed, wall_s: +wall.toFixed(3), msgs_per_s: +(sent / wall).toFixed(1),
  intake_ms_p50: q(0.5), intake_ms_p99: q(0.99), max_late_ms: Math.round(maxLate),
  ...(firstError ? { first_error: firstError.slice(0, 300) } : {}),
};
console.log(JSON.stringify(summary));
process.exit(failed > 0 ? 1 : 0);
