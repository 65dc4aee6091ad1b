import { RE2JS } from 're2js';
import { foldForLiterals, requiredLiterals } from './regex-literals.js';

/** An RE2 pattern with the literals every match contains, which rule out most texts for less than a scan. */
export class CompiledRegex {
  readonly regex: RE2JS;
  private readonly exact: string[] = [];
  private readonly folded: string[] = [];
  private readonly hasLiterals: boolean;

  constructor(source: string) {
    this.regex = RE2JS.compile(source);
    const literals = requiredLiterals(source);
    this.hasLiterals = literals !== null;
    for (const literal of literals ?? []) (literal.folded ? this.folded : this.exact).push(literal.text);
  }

  /** False only when the text lacks every literal a match needs, so that nothing in it (or in any part of it) can match. */
  mayMatch(text: string): boolean {
    if (!this.hasLiterals) return true;
    if (this.exact.some((literal) => text.includes(literal))) return true;
    if (this.folded.length === 0) return false;
    const folded = foldedCopy(text);
    return this.folded.some((literal) => folded.includes(literal));
  }

  /** Whether the pattern matches somewhere in the text. */
  test(text: string): boolean {
    return this.mayMatch(text) && this.regex.test(text);
  }
}

/**
 * The last text folded for literals and its fold: the patterns of one mail are tried one after
 * another on the same few texts, which would otherwise each be lower-cased once per pattern.
 */
let lastText = '';
let lastFolded = '';
function foldedCopy(text: string): string {
  if (text !== lastText) {
    lastFolded = foldForLiterals(text);
    lastText = text;
  }
  return lastFolded;
}

/**
 * Compiled RE2 patterns by source. Rule sets are evaluated for every mail, so compiling once per
 * source matters; the map is cleared when it grows past a bound, because every reload of the rules
 * file (and every built-in pattern) adds sources and a long-running daemon must not grow forever.
 */
const cache = new Map<string, CompiledRegex>();
const MAX_CACHED = 2000;

/**
 * Compiles an RE2 pattern (linear-time matching: no admin pattern or hostile text can make
 * matching backtrack). Sources reaching here were already validated by the schema, so a compile
 * error is a bug and is allowed to throw.
 */
export function compileRegex(source: string): CompiledRegex {
  let compiled = cache.get(source);
  if (!compiled) {
    if (cache.size >= MAX_CACHED) cache.clear();
    compiled = new CompiledRegex(source);
    cache.set(source, compiled);
  }
  return compiled;
}

/**
 * The first match, shaped like `RegExp.prototype.exec`'s (with `groups`). RE2JS answers "is there
 * a match" with a fast DFA but needs its slower NFA for positions and groups; most texts do not
 * match most patterns, so the DFA is asked first.
 */
export function execRegex(source: string, text: string): RegExpExecArray | null {
  const compiled = compileRegex(source);
  return compiled.test(text) ? (compiled.regex.exec(text) as RegExpExecArray | null) : null;
}

const WINDOW_CHARS = 4096;
const OVERLAP_CHARS = 1024;
const EDGE_SEARCH_CHARS = 128;

/**
 * Like execRegex for the built-in patterns (dates, addresses, keyword lists), whose matches are
 * short and begin and end at a non-word character. Their NFA is large, so on a hostile 100 KB
 * text whose only match is at the end, one NFA pass costs most of a second. Instead the DFA
 * finds the first window that holds a match and the NFA runs on that window alone. Windows
 * overlap by more than any such match is long, so the leftmost match lies whole in the first
 * window that has one; window edges are moved to whitespace so that an edge never poses as a
 * word boundary.
 */
export function execShortMatch(source: string, text: string): RegExpExecArray | null {
  const compiled = compileRegex(source);
  if (!compiled.test(text)) return null;
  const regex = compiled.regex;
  if (text.length <= WINDOW_CHARS + OVERLAP_CHARS) return regex.exec(text) as RegExpExecArray | null;
  for (let start = 0; start < text.length; ) {
    const end = toWhitespace(text, Math.min(text.length, start + WINDOW_CHARS + OVERLAP_CHARS));
    const window = text.slice(start, end);
    if (regex.test(window)) {
      const match = regex.exec(window) as RegExpExecArray | null;
      if (match) {
        match.index += start;
        return match;
      }
    }
    if (end >= text.length) break;
    start = toWhitespace(text, start + WINDOW_CHARS);
  }
  return null;
}

/**
 * A whitespace position at most EDGE_SEARCH_CHARS before `at`, else `at` (a run without spaces
 * has no word edge to respect). Bounded so consecutive windows still overlap by at least
 * OVERLAP_CHARS - 2 × EDGE_SEARCH_CHARS, longer than any built-in match.
 */
export function toWhitespace(text: string, at: number): number {
  if (at >= text.length) return text.length;
  for (let i = at; i > at - EDGE_SEARCH_CHARS && i > 0; i -= 1) if (/\s/.test(text[i]!)) return i;
  return at;
}
