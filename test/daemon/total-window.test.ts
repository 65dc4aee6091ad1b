import { describe, expect, it } from 'vitest';
import { createTotalWindowEstimate } from '../../daemon/tickets/total-window.js';

const windows = [
  { minutes: 60, max: 5000 },
  { minutes: 1, max: 100 },
];
const at = (ms: number) => new Date(Date.UTC(2026, 11, 5, 12, 0, 0) + ms);

describe('the estimate of the total auto-reply windows', () => {
  it('knows nothing until counted, then adds what this daemon queued, for one second', () => {
    const estimate = createTotalWindowEstimate();
    expect(estimate.estimate(windows, at(0))).toBeNull();
    estimate.queued(); // before any count: nothing to add it to
    estimate.counted(windows, at(0), [4000, 99]);
    expect(estimate.estimate(windows, at(10))).toEqual([4000, 99]);
    estimate.queued();
    estimate.queued();
    // Counts are capped at the max; past it is still full.
    expect(estimate.estimate(windows, at(999))).toEqual([4002, 101]);
    expect(estimate.estimate(windows, at(1000))).toBeNull();
  });

  it('asks again for other windows (rules reloaded) and for a clock that went back', () => {
    const estimate = createTotalWindowEstimate();
    estimate.counted(windows, at(0), [1, 1]);
    expect(estimate.estimate([{ minutes: 60, max: 10 }], at(1))).toBeNull();
    expect(estimate.estimate(windows, at(-1))).toBeNull();
    // A new count starts from what it read.
    estimate.queued();
    estimate.counted(windows, at(5), [7, 2]);
    expect(estimate.estimate(windows, at(6))).toEqual([7, 2]);
  });
});
