// Summarise a V8 .cpuprofile (from `node --cpu-prof`): where the CPU time went.
//   node bench/cpuprofile-top.mjs FILE.cpuprofile [TOP=25]
// Prints: total sampled time; self time per function (top N); self time per source file
// or package; and inclusive ("total") time of a few named daemon functions, so a cost can
// be pinned to a file and function.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** This checkout's folder, as the profile's file URLs spell it (not a fixed path: a fresh clone lives anywhere). */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const [file, topArg = '25'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/cpuprofile-top.mjs FILE.cpuprofile [TOP]');
  process.exit(2);
}
const top = Number(topArg);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// self time per node from samples and timeDeltas (microseconds)
const self = new Map();
let total = 0;
for (let i = 0; i < prof.samples.length; i++) {
  const dt = prof.timeDeltas[i] ?? 0;
  self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
  total += dt;
}

const short = (url) => {
  if (!url) return '(native)';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + 14);
  if (u.startsWith(ROOT)) return u.slice(ROOT.length);
  return u.replace(/^node:/, 'node:');
};
const pkgOf = (url) => {
  if (!url) return '(native/gc/idle)';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + 14).split('/');
    return 'npm:' + (rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]);
  }
  if (u.startsWith('node:')) return 'node:internals';
  if (u.startsWith(ROOT)) return u.slice(ROOT.length);
  return u;
};

const byFn = new Map();
const byPkg = new Map();
for (const [id, us] of self) {
  const n = nodes.get(id);
  const cf = n.callFrame;
  const key = `${cf.functionName || '(anonymous)'}  ${short(cf.url)}:${cf.lineNumber + 1}`;
  byFn.set(key, (byFn.get(key) ?? 0) + us);
  const pk = cf.url ? pkgOf(cf.url) : `(${cf.functionName || 'native'})`;
  byPkg.set(pk, (byPkg.get(pk) ?? 0) + us);
}

// inclusive time: a sample counts once for every distinct key (of keyOf; null: not counted) on its stack
const inclusive = (keyOf) => {
  const totals = new Map();
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    const seen = new Set();
    for (let id = prof.samples[i]; id !== undefined; id = parent.get(id)) {
      const key = keyOf(nodes.get(id).callFrame);
      if (key !== null) seen.add(key);
    }
    for (const k of seen) totals.set(k, (totals.get(k) ?? 0) + dt);
  }
  return totals;
};
// per function name+file of mailroom's own code
const incl = inclusive((cf) =>
  cf.url && cf.url.includes(ROOT) && !cf.url.includes('node_modules') && !cf.url.includes(`${ROOT}bench/`)
    ? `${cf.functionName || '(anonymous)'}  ${short(cf.url)}`
    : null);
// per package
const inclPkg = inclusive((cf) => (cf.url && cf.url.includes('node_modules') ? pkgOf(cf.url) : null));

const idle = [...self].filter(([id]) => nodes.get(id).callFrame.functionName === '(idle)').reduce((s, [, us]) => s + us, 0);
const busy = total - idle;
const pct = (us) => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
const ms = (us) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
console.log(`profile ${file}: sampled ${ms(total)} wall, ${ms(idle)} idle, ${ms(busy)} busy (percentages are of busy time)`);
console.log(`\n-- self time by package / source file (top ${top})`);
for (const [k, us] of [...byPkg].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(us)} ${pct(us)}  ${k}`);
console.log(`\n-- self time by function (top ${top})`);
for (const [k, us] of [...byFn].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(us)} ${pct(us)}  ${k}`);
console.log(`\n-- inclusive time by npm package (the package's code and everything it calls; top ${top})`);
for (const [k, us] of [...inclPkg].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(us)} ${pct(us)}  ${k}`);
console.log(`\n-- inclusive time of mailroom's own functions (top ${top})`);
for (const [k, us] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(us)} ${pct(us)}  ${k}`);
