import { compileRegex, toWhitespace, type CompiledRegex } from './compile-regex.js';
import type { RuleSet } from './schema.js';

const REDACTED = '[redacted]';

/** Work done between two chances for the caller to let others run: about 10 ms of matching. */
const SLICE_CHARS = 16 * 1024;
/** A match may run this far past its slice: longer than any secret worth the name (a 4096-bit PEM key is ~3.2 KB). */
const OVERLAP_CHARS = 4 * 1024;

export interface Redaction {
  text: string;
  /** Ids of the `sensitive` entries that matched. */
  found: Set<string>;
}

/**
 * Replaces every match of every sensitive pattern with `[redacted]`, over the whole text: whatever
 * is stored must be clean. A generator that yields after each slice of work, so a caller with other
 * work (an SMTP listener) can run it a slice at a time; redactSensitive runs it to the end at once.
 * Empty matches are left alone (a pattern such as `x*` would otherwise insert the marker
 * between every character).
 */
export function* redactionSteps(text: string, ruleSet: RuleSet): Generator<void, Redaction, void> {
  let out = text;
  const found = new Set<string>();
  for (const entry of ruleSet.sensitive) {
    if (entry.pattern === undefined) continue;
    const result = yield* redactPattern(out, compileRegex(entry.pattern));
    if (result.hit) found.add(entry.id);
    out = result.text;
  }
  return { text: out, found };
}

/** Runs the redaction to the end at once. */
export function redactSensitive(text: string, ruleSet: RuleSet): string {
  return runSteps(redactionSteps(text, ruleSet)).text;
}

export function runSteps<T>(steps: Generator<void, T, void>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * One pattern, a slice at a time. Each slice is matched with OVERLAP_CHARS of what follows, and
 * only the matches that begin inside the slice are taken; the next slice begins where the last
 * match ended, or at the slice's end. Slice edges sit on whitespace so an edge never poses as a
 * word boundary.
 */
function* redactPattern(text: string, compiled: CompiledRegex): Generator<void, { text: string; hit: boolean }, void> {
  const pattern = compiled.regex;
  // One string per slice: joining a few hundred slices at the end is quick, joining every
  // fragment of a text full of matches at once is not.
  const slices: string[] = [];
  let hit = false;
  let pos = 0;
  while (pos < text.length) {
    const sliceEnd = text.length - pos <= SLICE_CHARS + OVERLAP_CHARS ? text.length : toWhitespace(text, pos + SLICE_CHARS);
    const window = text.slice(pos, Math.min(text.length, sliceEnd + OVERLAP_CHARS));
    const parts: string[] = [];
    let emitted = 0;
    let stop = sliceEnd - pos;
    // The literals' look and the DFA's yes/no are far cheaper than a scan for positions, and most
    // text holds no secret. Per window, like the matching, so no look covers more than a slice.
    if (compiled.test(window)) {
      const matcher = pattern.matcher(window);
      while (matcher.find()) {
        const start = matcher.start();
        const end = matcher.end();
        if (start >= stop) break;
        if (end === start) continue;
        parts.push(window.slice(emitted, start), REDACTED);
        emitted = end;
        hit = true;
      }
    }
    stop = Math.max(stop, emitted);
    parts.push(window.slice(emitted, stop));
    slices.push(parts.join(''));
    pos += stop;
    if (pos < text.length) yield;
  }
  return { text: slices.join(''), hit };
}
