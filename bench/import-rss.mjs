// RSS of a fresh node process after loading a module, one process per line (run from the
// project root): what the daemon holds before it receives anything.
//   node bench/import-rss.mjs      -> one JSON line: {"node": MiB, "node + tsx": MiB, ...}
import { execFileSync } from 'node:child_process';

const probe = (args, code) => {
  const out = execFileSync(process.execPath, [...args, '--input-type=module', '-e',
    `${code}; globalThis.gc?.(); await new Promise((r) => setTimeout(r, 200)); console.log(process.memoryUsage().rss)`], { encoding: 'utf8' });
  return +(Number(out.trim().split('\n').pop()) / 1048576).toFixed(1);
};
const tsx = ['--expose-gc', '--import', 'tsx'];
const result = {
  node: probe(['--expose-gc'], ''),
  'node + tsx loader': probe(tsx, ''),
  'node + tsx + @electric-sql/pglite (import only)': probe(tsx, "await import('@electric-sql/pglite')"),
  'node + tsx + postgres, drizzle-orm': probe(tsx, "await import('postgres'); await import('drizzle-orm/postgres-js')"),
  'node + tsx + bullmq': probe(tsx, "await import('bullmq')"),
  'node + tsx + mailparser': probe(tsx, "await import('mailparser')"),
  'node + tsx + daemon/app.ts (all the daemon imports)': probe(tsx, "await import('./daemon/app.ts')"),
};
console.log(JSON.stringify(result));
