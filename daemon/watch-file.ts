import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from './logger.js';

/**
 * Calls `onChange` shortly after a file changes. Watches the folder, not the file: editors save
 * by writing a new file and renaming it over the old one, which ends a watch on the file itself.
 * Returns a function that stops watching.
 */
export function watchFile(file: string, onChange: () => void, logger: Logger, debounceMs = 200): () => void {
  const name = path.basename(file);
  let timer: NodeJS.Timeout | null = null;
  let watcher: FSWatcher;
  try {
    watcher = watch(path.dirname(file), (_event, changed) => {
      if (changed !== null && changed !== name) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(onChange, debounceMs);
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
