import type { FoundField } from '../verdict.js';
import type { CheckInput } from './check-input.js';

/**
 * Characters (code points, so an emoji or "ñ" counts once), up to `stopAt`: whether a text is
 * too long needs no count of all of a 20 MB one.
 */
export function countCharacters(text: string, stopAt = Number.POSITIVE_INFINITY): number {
  // A UTF-16 string has at least half as many code points as code units: nothing to count past the limit.
  if (text.length / 2 > stopAt) return stopAt;
  let count = 0;
  for (const _ of text) if (++count >= stopAt) break;
  return count;
}

/** At least `min` characters of visible text; presence only, so the value is null. */
export function checkMinLength(min: number, input: CheckInput): FoundField | null {
  const collapsed = input.visibleText.trim().replace(/\s+/g, ' ');
  return countCharacters(collapsed) >= min ? { value: null } : null;
}
