import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../daemon/logger.js';
import { watchFile } from '../../daemon/watch-file.js';
import { waitFor } from '../helpers/wait.js';

/* How editors and orchestrators replace a rules file; each must reach the daemon as one reload. */
const stops: Array<() => void> = [];
const dirs: string[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function watched(file: string) {
  const calls = { n: 0 };
  stops.push(watchFile(file, () => void (calls.n += 1), createLogger('silent'), 50));
  return calls;
}
const folder = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailroom-watch-'));
  dirs.push(dir);
  return dir;
};
const quiet = () => new Promise((resolve) => setTimeout(resolve, 300));

describe('watching the rules file', () => {
  it('sees an edit in place', async () => {
    const file = path.join(folder(), 'rules.yaml');
    writeFileSync(file, 'a: 1\n');
    const calls = watched(file);
    writeFileSync(file, 'a: 2\n');
    await waitFor(() => calls.n >= 1 || undefined, 'a reload');
  });

  it('sees a new file renamed over the old one (vim, VS Code, sed -i, Docker bind mounts of the folder)', async () => {
    const dir = folder();
    const file = path.join(dir, 'rules.yaml');
    writeFileSync(file, 'a: 1\n');
    const calls = watched(file);
    writeFileSync(path.join(dir, '.rules.yaml.swp'), 'a: 2\n');
    renameSync(path.join(dir, '.rules.yaml.swp'), file);
    await waitFor(() => calls.n >= 1 || undefined, 'a reload');
    await quiet();
    expect(calls.n).toBe(1);
  });

  it('sees a Kubernetes ConfigMap update: the ..data symlink swapped to a new folder', async () => {
    const dir = folder();
    mkdirSync(path.join(dir, 'v1'));
    mkdirSync(path.join(dir, 'v2'));
    writeFileSync(path.join(dir, 'v1', 'rules.yaml'), 'a: 1\n');
    writeFileSync(path.join(dir, 'v2', 'rules.yaml'), 'a: 2\n');
    symlinkSync('v1', path.join(dir, '..data'));
    symlinkSync(path.join('..data', 'rules.yaml'), path.join(dir, 'rules.yaml'));
    const calls = watched(path.join(dir, 'rules.yaml'));
    symlinkSync('v2', path.join(dir, '..data_tmp'));
    renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    await waitFor(() => calls.n >= 1 || undefined, 'a reload');
  });

  it('does not reload for other files in the folder', async () => {
    const dir = folder();
    const file = path.join(dir, 'rules.yaml');
    writeFileSync(file, 'a: 1\n');
    const calls = watched(file);
    writeFileSync(path.join(dir, 'notes.txt'), 'hello');
    await quiet();
    expect(calls.n).toBe(0);
  });
});
