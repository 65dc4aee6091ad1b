import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A lock across the test workers: suites that load the machine (and one that measures
 * latency under a load of its own) take turns instead of skewing each other on two cores.
 * Returns the release. A lock left by a worker that died is taken over.
 */
export async function runAlone(name: string, timeoutMs = 600_000): Promise<() => void> {
  const dir = path.join(os.tmpdir(), `mailroom-test-lock-${name}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'pid'), String(process.pid));
      return () => rmSync(dir, { recursive: true, force: true });
    } catch {
      const holder = Number(readFileSafe(path.join(dir, 'pid')));
      if (holder && !alive(holder)) rmSync(dir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for the test lock ${name}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
