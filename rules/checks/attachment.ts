import type { AttachmentMatcher } from '../schema.js';
import type { FoundField, RuleMessage } from '../verdict.js';
import type { CheckInput } from './check-input.js';

type Attachment = RuleMessage['attachments'][number];

/** File names are attacker-controlled; glob matching is O(name × pattern), so cap the name. */
const MAX_FILENAME_CHARS = 1000;

/** `image/*` matches every image type, `*` or `*\/*` anything; parameters (`; name=…`) are ignored. */
function matchesContentType(pattern: string, contentType: string): boolean {
  const wanted = pattern.trim().toLowerCase();
  const actual = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (wanted === '*' || wanted === '*/*') return true;
  if (wanted.endsWith('/*')) return actual.startsWith(wanted.slice(0, -1));
  return actual === wanted;
}

/**
 * Case-insensitive glob: `*` is any run of characters (dots included), `?` one character.
 * Iterative with one backtrack point, so no pattern can make it exponential.
 */
export function matchesGlob(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  const s = name.slice(0, MAX_FILENAME_CHARS).toLowerCase();
  let i = 0;
  let j = 0;
  let star = -1;
  let resume = 0;
  while (j < s.length) {
    if (i < p.length && (p[i] === '?' || p[i] === s[j])) {
      i += 1;
      j += 1;
    } else if (i < p.length && p[i] === '*') {
      star = i;
      resume = j;
      i += 1;
    } else if (star !== -1) {
      i = star + 1;
      resume += 1;
      j = resume;
    } else {
      return false;
    }
  }
  while (p[i] === '*') i += 1;
  return i === p.length;
}

/**
 * Whether one attachment is of a kind the matcher lists. The two lists are alternatives: a type
 * OR a file name pattern suffices, because mail clients often send screenshots and dumps as
 * `application/octet-stream`, and a file name alone (or a type alone) is then the only clue.
 * A matcher with neither list takes every attachment.
 */
function isMatchingAttachment(matcher: AttachmentMatcher, attachment: Attachment): boolean {
  const types = matcher.content_types ?? [];
  const names = matcher.filenames ?? [];
  if (types.length === 0 && names.length === 0) return true;
  if (types.some((type) => matchesContentType(type, attachment.contentType))) return true;
  const filename = attachment.filename;
  return filename !== null && names.some((glob) => matchesGlob(glob, filename));
}

/** Indexes of the attachments the matcher takes; empty when fewer than `min_count` match. */
export function matchAttachments(matcher: AttachmentMatcher, attachments: readonly Attachment[]): number[] {
  const indexes: number[] = [];
  attachments.forEach((attachment, index) => {
    if (isMatchingAttachment(matcher, attachment)) indexes.push(index);
  });
  return indexes.length >= (matcher.min_count ?? 1) ? indexes : [];
}

/** Enough matching attachments; the value is the first one's file name (null when it has none). */
export function checkAttachment(matcher: AttachmentMatcher, input: CheckInput): FoundField | null {
  const indexes = matchAttachments(matcher, input.attachments);
  if (indexes.length === 0) return null;
  return { value: input.attachments[indexes[0]!]?.filename ?? null };
}
