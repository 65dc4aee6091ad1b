/**
 * Lets at most `permits` large messages be processed at once. Each holds its raw bytes in memory
 * while it is parsed and its attachments are streamed to storage, so ten 25 MB messages side by
 * side would need ten times that; one at a time keeps the daemon's memory bounded while small
 * mail flows past.
 */
export function createLargeMessageGate(permits: number) {
  let free = permits;
  const waiting: Array<() => void> = [];
  return async function withPermit<T>(work: () => Promise<T>): Promise<T> {
    if (free > 0) free -= 1;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free += 1;
    }
  };
}
