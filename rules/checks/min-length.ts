import type { FoundField } from '../verdict.js';
import type { CheckInput } from './check-input.js';

/** Characters (code points, so an emoji or "ñ" counts once) after trimming and collapsing whitespace. */
export function countCharacters(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

/** At least `min` characters of visible text; presence only, so the value is null. */
export function checkMinLength(min: number, input: CheckInput): FoundField | null {
  const collapsed = input.visibleText.trim().replace(/\s+/g, ' ');
  return countCharacters(collapsed) >= min ? { value: null } : null;
}
