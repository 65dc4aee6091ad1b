import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';

/**
 * The embedded database's settings. PGlite's WASM memory holds PostgreSQL's shared buffers:
 * 32 MB instead of the default 128 MB is what keeps an idle embedded daemon near 250 MB of RSS,
 * and is plenty for a helpdesk's working set (production runs PostgreSQL proper).
 */
const POSTGRESQL_CONF = ['shared_buffers = 16MB'];

/**
 * Opens PGlite in `dir` (or in memory). A new data folder is created by a short-lived child
 * process first: initdb's memory (~500 MB) would otherwise stay with the daemon for good.
 */
export async function openPglite(dir: string): Promise<PGlite> {
  const { PGlite } = await import('@electric-sql/pglite');
  if (!dir.startsWith('memory://') && !existsSync(dir)) await initializeInChild(dir);
  return PGlite.create(dir, { postgresqlconf: POSTGRESQL_CONF });
}

async function initializeInChild(dir: string): Promise<void> {
  const pglite = import.meta.resolve('@electric-sql/pglite');
  const code = `const { PGlite } = await import(${JSON.stringify(pglite)}); const db = await PGlite.create(${JSON.stringify(dir)}); await db.close();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4000)));
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (exitCode !== 0) throw new Error(`could not create the embedded database in ${dir}: ${stderr.trim() || `exit ${exitCode}`}`);
}
