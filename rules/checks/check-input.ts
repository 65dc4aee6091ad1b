import type { RuleMessage } from '../verdict.js';

/**
 * Detectors and matchers look at no more than this many characters of a mail's text. Matching is
 * linear, but a hostile 10 MB body would still cost real time per field; the information a
 * customer gives by hand is always near the top.
 */
export const MAX_SCAN_CHARS = 100_000;

/** What every detector sees of one mail, prepared once per evaluation. */
export interface CheckInput {
  /** Subject, a line feed, then the visible text; at most MAX_SCAN_CHARS. */
  text: string;
  /** The visible text alone; at most MAX_SCAN_CHARS. */
  visibleText: string;
  attachments: RuleMessage['attachments'];
  /** `text` case- and accent-folded for keyword matching; computed on first use. */
  foldedText(): string;
  /** Addresses an `email` detector must not report: the sender's and mailroom's own. */
  isExcludedAddress(address: string): boolean;
}

/** Cuts a string to at most `max` UTF-16 units without leaving half a surrogate pair at the end. */
export function clipText(text: string, max = MAX_SCAN_CHARS): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}
