/**
 * Lets at most `permits` large messages be parsed at once. Parsing holds a message and its
 * decoded attachments in memory, so ten 25 MB messages processed side by side would need
 * gigabytes; one or two at a time keep the daemon's memory bounded while small mail flows past.
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
