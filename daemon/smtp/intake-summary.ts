import type { Logger } from '../logger.js';

export interface IntakeSummaryOptions {
  /** How much intake one summary line covers at most. @defaultValue 1000 ms */
  intervalMs?: number;
}

/**
 * What intake stored, as one info line per interval (`intake.summary`: messages, bytes): a line
 * per message cost several per cent of intake's CPU under load, so that one is debug. The
 * interval starts at the first message after a quiet spell, so an idle server logs nothing and
 * keeps no timer.
 */
export function createIntakeSummary(logger: Logger, options: IntakeSummaryOptions = {}) {
  const intervalMs = options.intervalMs ?? 1000;
  let messages = 0;
  let bytes = 0;
  let since = 0;
  let timer: NodeJS.Timeout | null = null;

  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (messages === 0) return;
    logger.info({ event: 'intake.summary', messages, bytes, intervalMs: Date.now() - since }, 'messages stored');
    messages = 0;
    bytes = 0;
  };

  return {
    stored(sizeBytes: number): void {
      if (messages === 0) {
        since = Date.now();
        timer = setTimeout(flush, intervalMs);
        timer.unref();
      }
      messages += 1;
      bytes += sizeBytes;
    },
    /** Logs what the current interval holds (at shutdown: nothing stored goes unreported). */
    flush,
  };
}

export type IntakeSummary = ReturnType<typeof createIntakeSummary>;
