import type { CliIO } from './context.js';

/**
 * A one-line progress counter for long CLI work, on standard error and only on a terminal, so
 * scripts reading standard output (or --json) never see it.
 */
export function createProgress(io: CliIO, label: string, total: number): { tick(done: number): void; finish(): void } {
  let last = 0;
  const show = (done: number) => io.err(`\r${label} ${done}/${total} (${total === 0 ? 100 : Math.floor((done / total) * 100)}%)`);
  return {
    tick(done) {
      if (!io.isTTY) return;
      const now = Date.now();
      if (now - last < 100 && done < total) return; // at most ten redraws a second
      last = now;
      show(done);
    },
    finish() {
      if (!io.isTTY || total === 0) return;
      show(total);
      io.err('\n');
    },
  };
}
