import { execRegex } from '../compile-regex.js';
import type { FoundField } from '../verdict.js';
import type { CheckInput } from './check-input.js';

/**
 * A match anywhere in the subject or visible text. A named group `value` (written `(?P<value>…)`
 * or `(?<value>…)`) is the value, so a pattern can require a label ("cuenta 123456") yet keep only
 * the number; without that group the whole match is the value.
 */
export function checkRegex(source: string, input: CheckInput): FoundField | null {
  const match = execRegex(source, input.text);
  if (!match) return null;
  const named = match.groups?.value;
  const value = (named ?? match[0] ?? '').trim();
  return { value: value === '' ? null : value };
}
