// Markdown tables for one step of bench/run.sh, from its records.jsonl.
//   node bench/report.mjs a|b|c|d|e RECORDS.jsonl
// Medians over repetitions; a ratio is taken within each repetition (same minutes of machine
// time) and the median of those ratios is reported.
import { readFileSync } from 'node:fs';

const [step, file] = process.argv.slice(2);
const allRecs = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const recs = allRecs.filter((r) => r.step === step);
const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const min = (xs) => Math.min(...xs.filter(Number.isFinite));
const max = (xs) => Math.max(...xs.filter(Number.isFinite));
const f = (x, d = 0) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));
const range = (xs, d = 0) => (xs.filter(Number.isFinite).length > 1 ? ` (${f(min(xs), d)}–${f(max(xs), d)})` : '');
const met = (ok) => (ok === null ? 'n/a' : ok ? '**met**' : '**not met**');
const p = (s) => console.log(s);

if (step === 'a') {
  const names = { sink: 'smtp-server → /dev/null (library ceiling)', 'pg-raw': 'PG baseline: buffer → INSERT, 250 after commit', 'pg-gc': 'PG baseline with group commit', 'mr-intake': '**mailroom intake-only** (workers 0)', 'mr-full': 'mailroom full daemon (workers 16, processing meanwhile)' };
  const timed = recs.filter((r) => r.rep > 0);
  const reps = [...new Set(timed.map((r) => r.rep))];
  const ratioOf = (size, a, b) => reps.map((rep) => {
    const x = timed.find((r) => r.rep === rep && r.size === size && r.receiver === a)?.msgs_per_s;
    const y = timed.find((r) => r.rep === rep && r.size === size && r.receiver === b)?.msgs_per_s;
    return x && y ? x / y : NaN;
  });
  p('| load | receiver | msgs/s, median (min–max) | receiver CPU ms/msg | ratio to PG baseline (per rep) | ratio to group-commit baseline |');
  p('| --- | --- | --- | --- | --- | --- |');
  const verdicts = [];
  for (const size of ['5k', '100k']) {
    for (const r of Object.keys(names)) {
      const rows = timed.filter((x) => x.size === size && x.receiver === r);
      if (!rows.length) continue;
      const rates = rows.map((x) => x.msgs_per_s);
      const cpu = median(rows.map((x) => x.cpu_ms_per_msg));
      const rr = ratioOf(size, r, 'pg-raw');
      const rg = ratioOf(size, r, 'pg-gc');
      p(`| ${size === '5k' ? '5 KB' : '100 KB'} | ${names[r]} | ${f(median(rates))}${range(rates)} | ${f(cpu, 3)} | ${f(median(rr), 2)} (${rr.map((x) => f(x, 2)).join(', ')}) | ${f(median(rg), 2)} |`);
      if (r === 'mr-intake') verdicts.push([size, median(rr), median(rg)]);
    }
  }
  const full = timed.filter((x) => x.receiver === 'mr-full' && x.full_e2e_per_s);
  if (full.length) {
    p('');
    p('Full daemon, until every message of the run was processed (intake + processing; not the accept figure):');
    p('');
    p('| load | messages | all processed after, s | mails/s end to end | daemon CPU ms per mail (intake + processing) |');
    p('| --- | --- | --- | --- | --- |');
    for (const size of ['5k', '100k']) {
      const rows = full.filter((x) => x.size === size);
      if (rows.length) p(`| ${size === '5k' ? '5 KB' : '100 KB'} | ${rows[0].count} | ${f(median(rows.map((x) => x.full_done_s)), 1)} | ${f(median(rows.map((x) => x.full_e2e_per_s)), 1)} | ${f(median(rows.map((x) => x.full_cpu_ms_per_msg)), 2)} |`);
    }
  }
  p('');
  for (const [size, rr, rg] of verdicts) p(`- Target a (${size === '5k' ? '5 KB' : '100 KB'}): mailroom intake ≥ 1.0 × PG baseline: ratio ${f(rr, 2)} → ${met(rr === null ? null : rr >= 1.0)} (vs group-commit baseline: ${f(rg, 2)}).`);
} else if (step === 'b' || step === 'e') {
  const sus = recs.filter((r) => r.kind === 'sustained');
  if (step === 'b' && sus.length) {
    p('| run | mails | intake msgs/s (client) | **mails/s end to end** | DB span mails/s | daemon CPU ms/mail | daemon cores | PostgreSQL CPU ms/mail | machine cores busy |');
    p('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of sus) p(`| ${r.label} | ${r.count ?? ''} | ${f(r.intake_per_s)} | ${f(r.e2e_per_s, 1)} | ${f(r.db_span_per_s, 1)} | ${f(r.daemon_cpu_ms, 2)} | ${f(r.daemon_cores, 2)} | ${f(r.pg_cpu_ms, 2)} | ${f(r.machine_busy_cores, 2)} |`);
    // The ratio is to step a's one-INSERT baseline (5 KB) of the same run: `npm run bench -- a b`.
    const baseline = median(allRecs.filter((r) => r.step === 'a' && r.rep > 0 && r.size === '5k' && r.receiver === 'pg-raw').map((r) => r.msgs_per_s));
    const best = (match) => max(sus.filter((r) => match.test(r.label)).map((r) => r.e2e_per_s ?? NaN));
    p('');
    for (const [what, match, target] of [['distinct new customers', /distinct senders/, 0.2], ['one sender', /one sender/, 0.15]]) {
      const rate = best(match);
      const ratio = baseline && Number.isFinite(rate) ? rate / baseline : null;
      p(`- Target b (${what}, end to end ≥ ${target} × the one-INSERT intake baseline of this run${baseline ? `, ${f(baseline)} msgs/s` : ''}): best ${f(rate, 1)} mails/s = ${ratio === null ? 'n/a (run steps a and b together)' : `${f(ratio, 3)} ×`} → ${met(ratio === null ? null : ratio >= target)}.`);
    }
    const lat = recs.filter((r) => r.kind === 'latency');
    if (lat.length) {
      p('');
      p('| offered rate | sent (achieved rate) | p50 ms | p95 ms | p99 ms | max ms | p99 to processed_at ms | load before |');
      p('| --- | --- | --- | --- | --- | --- | --- | --- |');
      for (const r of lat) p(`| ${r.rate}/s for ${r.seconds} s | ${r.client.sent} (${f(r.client.msgs_per_s, 1)}/s) | ${f(r.latency.p50_ms)} | ${f(r.latency.p95_ms)} | ${f(r.latency.p99_ms)} | ${f(r.latency.max_ms)} | ${f(r.latency.processed_at_p99_ms)} | ${r.load ?? ''} |`);
      const at100 = lat.find((r) => r.rate === 100);
      if (at100) p(`\n- Target b (p99 ≤ 250 ms at 100 mails/s): p99 ${f(at100.latency.p99_ms)} ms → ${met(at100.latency.p99_ms <= 250)}.`);
    }
  }
  if (step === 'e') {
    const seed = recs.find((r) => r.kind === 'seed');
    if (seed) p(`Seed: ${seed.articles} articles${seed.seconds !== null ? ` in ${seed.seconds} s` : ' (reused)'}${seed.db_size ? `, database ${seed.db_size}` : ''}.\n`);
    const runs = sus.map((r) => ({ ...r, rep: Number(/rep (\d+)/.exec(r.label)?.[1]), db: /seeded/.test(r.label) ? 'seeded' : 'empty' }));
    const thr = recs.filter((r) => r.kind === 'threading');
    p('End to end (full daemon; intake and processing at once):');
    p('');
    p('| rep | database | intake msgs/s (client) | **mails/s end to end** | daemon CPU ms/mail | PostgreSQL CPU ms/mail | threaded onto a stored ticket | follow-ups of closed tickets | new tickets |');
    p('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of runs) {
      const t = thr.find((x) => x.rep === r.rep && x.db === r.db)?.threading ?? {};
      p(`| ${r.rep} | ${r.db} | ${f(r.intake_per_s)} | ${f(r.e2e_per_s, 1)} | ${f(r.daemon_cpu_ms, 2)} | ${f(r.pg_cpu_ms, 2)} | ${t.headers ?? 0} | ${t.linked_followups ?? 0} | ${t.new_unlinked_tickets ?? 0} |`);
    }
    const reps = [...new Set(runs.map((r) => r.rep))];
    const ratio = (key) => reps.map((rep) => {
      const s = runs.find((r) => r.rep === rep && r.db === 'seeded')?.[key];
      const e = runs.find((r) => r.rep === rep && r.db === 'empty')?.[key];
      return s && e ? s / e : NaN;
    });
    const re = ratio('e2e_per_s');
    const intake = recs.filter((r) => r.kind === 'intake');
    p('');
    p('Intake alone (intake-only instance, new mails):');
    p('');
    p('| rep | database | msgs/s | receiver CPU ms/msg | client p50 / p99 ms (DATA end → 250) |');
    p('| --- | --- | --- | --- | --- |');
    for (const r of intake) p(`| ${r.rep} | ${r.db} | ${f(r.client?.msgs_per_s)} | ${f(r.cpu_ms_per_msg, 3)} | ${r.client?.intake_ms_p50} / ${r.client?.intake_ms_p99} |`);
    const ri = reps.map((rep) => {
      const s = intake.find((r) => r.rep === rep && r.db === 'seeded')?.client?.msgs_per_s;
      const e = intake.find((r) => r.rep === rep && r.db === 'empty')?.client?.msgs_per_s;
      return s && e ? s / e : NaN;
    });
    p('');
    p(`- seeded / empty, end to end: ${re.map((x) => f(x, 2)).join(', ')} (median ${f(median(re), 2)}); intake alone: ${ri.map((x) => f(x, 2)).join(', ')} (median ${f(median(ri), 2)}).`);
    if (thr.some((x) => x.threading?.events)) {
      p('');
      p('What each run made the daemon do (ticket events by type, automatic mails queued):');
      p('');
      for (const x of thr) p(`- rep ${x.rep} ${x.db}: ${x.threading.deliveries} deliveries; ${Object.entries(x.threading.events ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      p('');
    }
    p(`- Target e (within 15 % of the empty database): ${met(median(re) === null ? null : median(re) >= 0.85 && (median(ri) ?? 1) >= 0.85)}.`);
  }
} else if (step === 'c') {
  const names = {
    sink: 'smtp-server → /dev/null (ten smtp-source at once)',
    'pg-raw': 'PG baseline, buffer → INSERT (ten smtp-source at once)',
    'pg-raw-1src': 'PG baseline, buffer → INSERT (shared README method: one smtp-source, -s 10 -m 10, one file)',
    mailroom: '**mailroom** full daemon (ten smtp-source at once)',
  };
  p('| receiver | idle RSS MiB | **peak RSS MiB** (min–max) | peak MB | sampled peak while arriving / after the last 250, MiB | PostgreSQL backends, sum of peaks MiB | ten accepted after, s | ten stored/processed after, s |');
  p('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of Object.keys(names)) {
    const rows = recs.filter((x) => x.receiver === r && !x.kind);
    if (!rows.length) continue;
    const peaks = rows.map((x) => x.peak_kib / 1024);
    const pk = median(peaks);
    p(`| ${names[r]} | ${f(median(rows.map((x) => x.idle_kib / 1024)))} | ${f(pk)}${range(peaks)} | ${f(pk * 1.048576)} | ${f(median(rows.map((x) => x.sampled_peak_arriving_kib / 1024)))} / ${f(median(rows.map((x) => x.sampled_peak_after_kib / 1024)))} | ${f(median(rows.map((x) => x.pg_backends_peak_sum_kib / 1024)))} | ${f(median(rows.map((x) => x.accepted_ms / 1000)), 1)} | ${f(median(rows.map((x) => x.done_ms / 1000)), 1)} |`);
    if (rows.some((x) => !x.ok)) p(`| ^ ${rows.filter((x) => !x.ok).length} run(s) had a failed send or did not finish | | | | | | | |`);
  }
  const probe = recs.find((x) => x.kind === 'probe')?.probe;
  if (probe) {
    p('');
    p(`One ${(probe.message_bytes / 1e6).toFixed(1)} MB message (attachment ${(probe.attachment_bytes / 1e6).toFixed(1)} MB decoded) through mailroom's own functions, one step at a time, a full GC before each (\`node --expose-gc --import tsx bench/mem-probe.ts\`):`);
    p('');
    p('| step | ms | RSS before, MiB | peak RSS growth, MiB | peak growth of V8 heap + external buffers, MiB |');
    p('| --- | --- | --- | --- | --- |');
    for (const [k, v] of Object.entries(probe)) if (v && typeof v === 'object') p(`| ${k} | ${v.ms} | ${v.rss_before_mib} | ${v.rss_peak_growth_mib} | ${v.js_heap_external_peak_growth_mib} |`);
  }
  const irss = recs.find((x) => x.kind === 'import-rss')?.rss_mib;
  if (irss) p(`\nRSS of a fresh process after imports only (\`node bench/import-rss.mjs\`, MiB): ${Object.entries(irss).map(([k, v]) => `${k}: ${v}`).join('; ')}.`);
  const m = median(recs.filter((x) => x.receiver === 'mailroom').map((x) => (x.peak_kib / 1024) * 1.048576));
  p('');
  p(`- Target c (mailroom peak RSS < 300 MB): ${f(m)} MB → ${met(m === null ? null : m < 300)}.`);
} else if (step === 'd') {
  const data = recs.map((r) => r.data);
  const b = data.find((d) => d.corpus === 'bounces');
  const rc = data.find((d) => d.corpus === 'replies');
  if (b) p(`Bounce corpus: ${b.files} files (bsd + dos + not), ${(b.bytes / 1e6).toFixed(2)} MB, ${b.recognised} recognised as reports. Reply corpus: ${rc?.entries} entries (${rc?.text} text, ${rc?.html} html, ${rc?.eml} eml).\n`);
  p('| measure | per second, median (min–max) | µs per item | CPU / wall |');
  p('| --- | --- | --- | --- |');
  for (const d of data.filter((x) => x.measure)) p(`| ${d.measure} | **${d.per_s_median}** (${d.per_s_min}–${d.per_s_max}) | ${d.us_per_item} | ${d.cpu_over_wall} |`);
  const slow = data.find((d) => d.slowest_bounces)?.slowest_bounces;
  if (slow) p(`\nSlowest bounces: ${slow.map((s) => `${s.file} (${s.bytes} B, ${s.us} µs)`).join(', ')}.`);
  const pb = data.find((d) => d.measure === 'parseBounce');
  const vr = data.find((d) => d.measure?.startsWith('extractVisibleReply (all'));
  p('');
  if (pb) p(`- Target d (parseBounce ≥ 2,000/s): ${pb.per_s_median}/s → ${met(pb.per_s_median >= 2000)}.`);
  if (vr) p(`- Target d (visible-reply extraction ≥ 10,000/s over the corpus): ${vr.per_s_median}/s → ${met(vr.per_s_median >= 10000)}.`);
}
