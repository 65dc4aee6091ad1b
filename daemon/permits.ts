/**
 * At most `permits` pieces of work at once; the rest wait their turn, in order. A freed permit is
 * handed to the next waiter directly, so no newcomer can take it in between.
 */
export function createPermits(permits: number) {
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
