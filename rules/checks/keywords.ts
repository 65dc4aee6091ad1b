import { RE2JS } from 're2js';
import { execShortMatch } from '../compile-regex.js';
import type { FoundField } from '../verdict.js';
import type { CheckInput } from './check-input.js';
import { foldText } from './fold-text.js';

interface KeywordPattern {
  source: string;
  /** Folded keyword (single spaces) to the keyword as the admin wrote it. */
  byFolded: Map<string, string>;
}

/**
 * By the list itself: a rule set's lists live as long as the rule set, so each is prepared once
 * per rules version and goes with it, with no key to build per mail.
 */
const patterns = new WeakMap<readonly string[], KeywordPattern>();

/**
 * One RE2 alternation for a keyword list. Whole words: the character before and after must not be
 * a letter or digit of any script (RE2's `\b` only knows ASCII, so it would find "mas" inside
 * "más" folded or "ano" inside "año" folded). Longest keywords come first so that "landing page"
 * is reported rather than "landing".
 */
function keywordPattern(keywords: readonly string[]): KeywordPattern {
  let pattern = patterns.get(keywords);
  if (pattern) return pattern;
  const byFolded = new Map<string, string>();
  for (const keyword of keywords) {
    const folded = foldText(keyword).trim().split(/\s+/).join(' ');
    if (folded && !byFolded.has(folded)) byFolded.set(folded, keyword);
  }
  const alternatives = [...byFolded.keys()]
    .sort((a, b) => b.length - a.length)
    .map((folded) => folded.split(' ').map((word) => RE2JS.quote(word)).join('\\s+'));
  const source = `(?:^|[^\\p{L}\\p{N}])(?P<value>${alternatives.join('|')})(?:$|[^\\p{L}\\p{N}])`;
  pattern = { source, byFolded };
  patterns.set(keywords, pattern);
  return pattern;
}

/**
 * The keyword found earliest in already folded text (the longest one where several start at the
 * same place), as the admin wrote it; null when none.
 */
export function findKeyword(foldedText: string, keywords: readonly string[]): string | null {
  const pattern = keywordPattern(keywords);
  if (pattern.byFolded.size === 0) return null;
  const match = execShortMatch(pattern.source, foldedText);
  const found = match?.groups?.value;
  if (found === undefined) return null;
  return pattern.byFolded.get(found.split(/\s+/).join(' ')) ?? found;
}

/** Any of these words or phrases in the subject or visible text; the value is the keyword found. */
export function checkKeywords(keywords: readonly string[], input: CheckInput): FoundField | null {
  const keyword = findKeyword(input.foldedText(), keywords);
  return keyword === null ? null : { value: keyword };
}
