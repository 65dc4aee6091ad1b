import { statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from './logger.js';

/** What identifies one version of the file: a rename or a symlink swap changes the inode. */
function versionOf(file: string): string | null {
  try {
    const stat = statSync(file); // follows symlinks: a Kubernetes ConfigMap swaps `..data`
    return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}`;
  } catch {
    return null;
  }
}

/**
 * Calls `onChange` shortly after a file changes. Watches the folder, not the file: editors save
 * by writing a new file and renaming it over the old one, and Kubernetes swaps a symlink beside
 * it, either of which ends a watch on the file itself. Any event in the folder makes it look at
 * the file again; only a new version of it calls `onChange`. Returns a function that stops watching.
 */
export function watchFile(file: string, onChange: () => void, logger: Logger, debounceMs = 200): () => void {
  let timer: NodeJS.Timeout | null = null;
  let seen = versionOf(file);
  let watcher: FSWatcher;
  const look = (): void => {
    const now = versionOf(file);
    if (now === seen) return;
    seen = now;
    if (now !== null) onChange(); // gone for a moment mid-swap: wait for the new version
  };
  try {
    watcher = watch(path.dirname(file), () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(look, debounceMs);
      timer.unref();
    });
  } catch (err) {
    logger.warn({ event: 'rules.watch_failed', file, err }, 'cannot watch the rules file; reload with SIGHUP');
    return () => {};
  }
  watcher.on('error', (err) => logger.warn({ event: 'rules.watch_failed', file, err }, 'watching the rules file failed; reload with SIGHUP'));
  watcher.unref();
  return () => {
    if (timer) clearTimeout(timer);
    watcher.close();
  };
}
