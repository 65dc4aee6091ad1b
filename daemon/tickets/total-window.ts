/** A `total` auto-reply window of the rules. */
export interface TotalWindow {
  minutes: number;
  max: number;
}

/**
 * What a daemon knows of the `total` auto-reply windows between two counts. The total window is
 * a flood valve over all automatic mail, and counting it means reading every automatic delivery
 * of the window (thousands in a busy hour) for every mail, a cost that grows with the traffic it
 * guards. So it is counted at most once a second: in between, a mail is weighed against that
 * count plus the automatic mail this daemon has queued since. Mail leaving the window meanwhile is
 * not subtracted (the estimate errs towards full); other daemons' mail of that second is missed,
 * as the count between concurrent workers already misses their uncommitted mail.
 */
export interface TotalWindowEstimate {
  /** The windows' counts if one was taken in the last second (plus what was queued here since); null when they must be counted. */
  estimate(windows: readonly TotalWindow[], now: Date): number[] | null;
  /** The counts just taken. */
  counted(windows: readonly TotalWindow[], now: Date, counts: number[]): void;
  /** An automatic mail was queued by this daemon. */
  queued(): void;
}

export function createTotalWindowEstimate(freshMs = 1000): TotalWindowEstimate {
  let last: { key: string; at: number; counts: number[]; queuedSince: number } | null = null;
  const keyOf = (windows: readonly TotalWindow[]) => windows.map((w) => `${w.minutes}/${w.max}`).join(',');
  return {
    estimate(windows, now) {
      if (!last || last.key !== keyOf(windows)) return null;
      const age = now.getTime() - last.at;
      if (age < 0 || age >= freshMs) return null;
      const queued = last.queuedSince;
      return last.counts.map((count) => count + queued);
    },
    counted(windows, now, counts) {
      last = { key: keyOf(windows), at: now.getTime(), counts: [...counts], queuedSince: 0 };
    },
    queued() {
      if (last) last.queuedSince += 1;
    },
  };
}
