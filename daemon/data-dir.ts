import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AppError } from './errors.js';

/** What a running daemon tells the CLI about itself, in `<data>/daemon.json` (mode 0600). */
export interface DaemonInfo {
  pid: number;
  httpHost: string;
  httpPort: number;
  /** Bearer token for the local CLI endpoint; only readers of the data folder know it. */
  token: string;
}

const INFO_FILE = 'daemon.json';
const SECRET_FILE = 'secret';

export function pgliteDir(dataDir: string): string {
  return path.join(dataDir, 'pglite');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running daemon that owns this data folder, or null when none does. */
export function readDaemonInfo(dataDir: string): DaemonInfo | null {
  try {
    const info = JSON.parse(readFileSync(path.join(dataDir, INFO_FILE), 'utf8')) as DaemonInfo;
    return info.pid !== process.pid && isAlive(info.pid) ? info : null;
  } catch {
    return null; // no file, or a torn one from a crash: nobody owns the folder
  }
}

/**
 * Claims the embedded database for this process. PGlite is single-process: a second opener
 * would corrupt it, so a live owner is an error and a dead one's file is taken over.
 */
export function claimDataDir(dataDir: string, info: Omit<DaemonInfo, 'pid'> | null): () => void {
  mkdirSync(dataDir, { recursive: true });
  const owner = readDaemonInfo(dataDir);
  if (owner) {
    throw new AppError('DATA_DIR_LOCKED', `mailroom (pid ${owner.pid}) already owns ${dataDir}`);
  }
  const file = path.join(dataDir, INFO_FILE);
  const content: DaemonInfo = { pid: process.pid, httpHost: info?.httpHost ?? '', httpPort: info?.httpPort ?? 0, token: info?.token ?? '' };
  writeFileSync(file, JSON.stringify(content), { mode: 0o600 });
  return () => {
    try {
      const current = JSON.parse(readFileSync(file, 'utf8')) as DaemonInfo;
      if (current.pid === process.pid) rmSync(file, { force: true });
    } catch {
      // Already gone: nothing to release.
    }
  };
}

/** Rewrites the owner file once the HTTP port is known. */
export function publishDaemonInfo(dataDir: string, info: DaemonInfo): void {
  writeFileSync(path.join(dataDir, INFO_FILE), JSON.stringify(info), { mode: 0o600 });
}

/** The embedded mode's HMAC key: generated once, kept in the data folder (mode 0600). */
export function loadOrCreateSecret(dataDir: string): string {
  const file = path.join(dataDir, SECRET_FILE);
  try {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length >= 32) return secret;
  } catch {
    // First start: create it below.
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
