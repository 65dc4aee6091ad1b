/**
 * What one client may take of the SMTP listener: connections at once and per minute from one
 * address, and how slowly a message may arrive (the session time limit is a timer in the intake). Without them one
 * client holds every connection slot, or keeps a DATA open forever a byte at a time.
 */
export interface SessionLimitOptions {
  maxPerAddress: number;
  maxPerAddressPerMinute: number;
  /** Below this average rate, counted from the start of DATA, a message is cut off… */
  minDataBytesPerSecond: number;
  /** …once it has been arriving for this long. */
  dataGraceMs: number;
}

export interface SessionLimits {
  /** Null when the session may start, else why not (the text of a 421). */
  admit(sessionId: string, address: string): string | null;
  release(sessionId: string): void;
  /** Whether a DATA that has taken `elapsedMs` for `bytes` is too slow. */
  tooSlow(bytes: number, elapsedMs: number): boolean;
}

export function createSessionLimits(options: SessionLimitOptions, now: () => number = Date.now): SessionLimits {
  const open = new Map<string, number>();
  const sessionAddress = new Map<string, string>();
  const recent = new Map<string, number[]>();
  return {
    admit(sessionId, address) {
      const minuteAgo = now() - 60_000;
      const starts = (recent.get(address) ?? []).filter((at) => at > minuteAgo);
      starts.push(now());
      recent.set(address, starts);
      // Forget addresses that have gone quiet, so the map stays as small as the traffic.
      if (recent.size > 10_000) for (const [key, list] of recent) if (list.every((at) => at <= minuteAgo)) recent.delete(key);
      if (starts.length > options.maxPerAddressPerMinute) return `too many connections from your address in the last minute, try again later`;
      const current = open.get(address) ?? 0;
      if (current >= options.maxPerAddress) return `too many connections from your address at once, try again later`;
      open.set(address, current + 1);
      sessionAddress.set(sessionId, address);
      return null;
    },
    release(sessionId) {
      const address = sessionAddress.get(sessionId);
      if (address === undefined) return;
      sessionAddress.delete(sessionId);
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    },
    tooSlow(bytes, elapsedMs) {
      return elapsedMs >= options.dataGraceMs && bytes < (options.minDataBytesPerSecond * elapsedMs) / 1000;
    },
  };
}
