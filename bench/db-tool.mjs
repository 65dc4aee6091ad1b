// Database-side measurements for the mailroom benchmarks (the `postgres` driver from
// node_modules; read-only queries except where said).
//   node bench/db-tool.mjs watermark URL                       highest spool id so far (0 if none)
//   node bench/db-tool.mjs wait URL AFTER N TIMEOUT_S [PID]    poll every 100 ms until the N spool rows
//        with id > AFTER are finished and their inbound articles stored; JSON with the epoch ms it saw it
//        (with PID: fail as soon as that process, the daemon, is gone)
//   node bench/db-tool.mjs latency URL AFTER                   per mail: article.created_at - spool received_at
//        (both written on this host's clock), p50/p95/p99/max in ms; JSON
//   node bench/db-tool.mjs threading URL AFTER                 how the articles of rows > AFTER were threaded; JSON
//   node bench/db-tool.mjs reply-ids URL N FILE [not-closed]   N random stored inbound Message-IDs and their senders
//        ("id<TAB>from" lines), for smtp-client.mjs --replies; not-closed: only of tickets that are not closed
import { writeFileSync } from 'node:fs';
import postgres from 'postgres';

const [cmd, url, ...rest] = process.argv.slice(2);
if (!cmd || !url) {
  console.error('usage: node bench/db-tool.mjs watermark|wait|latency|threading|reply-ids URL ...');
  process.exit(2);
}
const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: 'mailroom-bench' } });
const out = (o) => console.log(JSON.stringify(o));
const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] : null);

try {
  if (cmd === 'watermark') {
    const [r] = await sql`select coalesce(max(id), 0)::bigint as w from inbound_messages`;
    console.log(String(r.w));
  } else if (cmd === 'wait') {
    const after = Number(rest[0]);
    const n = Number(rest[1]);
    const deadline = Date.now() + Number(rest[2] ?? 600) * 1000;
    const watchPid = rest[3] ? Number(rest[3]) : null; // give up at once if this process dies
    const alive = (pid) => {
      try { process.kill(pid, 0); return true; } catch { return false; }
    };
    let last = null;
    for (;;) {
      const [r] = await sql`
        select count(*) filter (where state in ('processed','ignored','failed'))::int as finished,
               count(*) filter (where state = 'failed')::int as failed,
               count(*) filter (where state = 'ignored')::int as ignored,
               count(*)::int as rows,
               (select count(*)::int from articles where direction = 'inbound' and inbound_id > ${after}) as articles
        from inbound_messages where id > ${after}`;
      last = r;
      if (r.finished >= n && r.articles >= n - r.ignored - r.failed) break;
      if (watchPid && !alive(watchPid)) {
        out({ done: false, reason: `process ${watchPid} (the daemon) exited`, seen_ms: Date.now(), ...r });
        process.exitCode = 1;
        break;
      }
      if (Date.now() > deadline) {
        out({ done: false, seen_ms: Date.now(), ...r });
        process.exitCode = 1;
        break;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    if (process.exitCode !== 1) {
      const seen = Date.now();
      const [span] = await sql`
        select extract(epoch from min(received_at)) * 1000 as first_received_ms,
               extract(epoch from max(processed_at)) * 1000 as last_processed_ms
        from inbound_messages where id > ${after}`;
      out({ done: true, seen_ms: seen, first_received_ms: Number(span.first_received_ms), last_processed_ms: Number(span.last_processed_ms), ...last });
    }
  } else if (cmd === 'latency') {
    const after = Number(rest[0]);
    const rows = await sql`
      select extract(epoch from a.created_at - i.received_at) * 1000 as ms,
             extract(epoch from i.processed_at - i.received_at) * 1000 as done_ms
      from inbound_messages i join articles a on a.inbound_id = i.id
      where i.id > ${after}`;
    const ms = rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
    const done = rows.map((r) => Number(r.done_ms)).sort((a, b) => a - b);
    const r1 = (x) => (x === null ? null : Math.round(x * 10) / 10);
    out({
      mails: ms.length,
      p50_ms: r1(pct(ms, 0.5)), p95_ms: r1(pct(ms, 0.95)), p99_ms: r1(pct(ms, 0.99)), max_ms: r1(ms[ms.length - 1] ?? null),
      processed_at_p50_ms: r1(pct(done, 0.5)), processed_at_p99_ms: r1(pct(done, 0.99)),
    });
  } else if (cmd === 'threading') {
    const after = Number(rest[0]);
    const rows = await sql`
      select coalesce(e.data->>'threadedBy', '?') as how, count(*)::int as n
      from articles a join ticket_events e on e.article_id = a.id and e.type = 'article.added'
      where a.direction = 'inbound' and a.inbound_id > ${after}
      group by 1 order by 1`;
    const [t] = await sql`select count(*)::int as created from ticket_events e where e.type = 'ticket.created' and (e.data->>'inboundId')::bigint > ${after}`;
    const [l] = await sql`select count(*) filter (where t.linked_ticket_id is not null)::int as linked
      from inbound_messages i join tickets t on t.id = i.ticket_id where i.id > ${after}`;
    // what the run made the daemon do: ticket events by type and automatic mails, since its first mail arrived
    const events = await sql`
      select type, count(*)::int as n from ticket_events
      where created_at >= (select min(received_at) from inbound_messages where id > ${after}) group by 1 order by 1`;
    const [d] = await sql`
      select count(*)::int as n from deliveries
      where created_at >= (select min(received_at) from inbound_messages where id > ${after})`;
    // threadedBy 'new' also counts follow-up tickets opened for replies to closed tickets (linked)
    out({ ...Object.fromEntries(rows.map((r) => [r.how, r.n])), new_unlinked_tickets: t.created, linked_followups: l.linked,
      deliveries: d.n, events: Object.fromEntries(events.map((e) => [e.type, e.n])) });
  } else if (cmd === 'reply-ids') {
    const n = Number(rest[0]);
    const file = rest[1];
    const notClosed = rest[2] === 'not-closed'; // only articles of tickets a reply appends to (not closed)
    // a uniform sample over the whole id range (cheap on a million rows, unlike ORDER BY random())
    const [{ lo, hi }] = await sql`select min(id)::bigint as lo, max(id)::bigint as hi from articles where direction = 'inbound'`;
    const rows = hi === null ? [] : await sql`
      select a.message_id, a.from_address
      from (select (${Number(lo)}::bigint + floor(random() * (${Number(hi)}::bigint - ${Number(lo)}::bigint + 1)))::bigint as id
            from generate_series(1, ${n * (notClosed ? 8 : 3)})) s
      join articles a on a.id = s.id
      join tickets t on t.id = a.ticket_id
      where a.direction = 'inbound' and a.message_id is not null and (${!notClosed} or t.status <> 'closed')`;
    // the join may come back in id order: shuffle before taking N, or the oldest tickets win
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    const picked = rows.slice(0, n);
    writeFileSync(file, picked.map((r) => `${r.message_id}\t${r.from_address}`).join('\n') + '\n');
    out({ file, ids: picked.length });
  } else {
    console.error(`unknown command ${cmd}`);
    process.exitCode = 2;
  }
} finally {
  await sql.end({ timeout: 5 });
}
