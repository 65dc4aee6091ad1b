import type { Detector } from '../schema.js';
import type { FoundField } from '../verdict.js';
import { checkAttachment } from './attachment.js';
import type { CheckInput } from './check-input.js';
import { checkDate } from './date.js';
import { checkEmail } from './email.js';
import { checkKeywords } from './keywords.js';
import { checkMinLength } from './min-length.js';
import { checkRegex } from './regex.js';

/**
 * Runs one detector against a mail: the field when given, else null. `any_of` reports the first
 * alternative that holds; `all_of` needs every part and reports the first part's value (the
 * part an admin lists first is the one that names the thing, e.g. the send id before its date).
 */
export function detectField(detector: Detector, input: CheckInput): FoundField | null {
  if ('regex' in detector) return checkRegex(detector.regex, input);
  if ('keywords' in detector) return checkKeywords(detector.keywords, input);
  if ('attachment' in detector) return checkAttachment(detector.attachment, input);
  if ('email' in detector) return checkEmail(input);
  if ('date' in detector) return checkDate(input);
  if ('min_length' in detector) return checkMinLength(detector.min_length, input);
  if ('any_of' in detector) {
    for (const part of detector.any_of) {
      const found = detectField(part, input);
      if (found) return found;
    }
    return null;
  }
  let first: FoundField | null = null;
  for (const part of detector.all_of) {
    const found = detectField(part, input);
    if (!found) return null;
    first ??= found;
  }
  return first;
}
