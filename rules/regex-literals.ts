/**
 * One string every match of a regex contains. `folded`: the regex ignores case there, so the
 * string is in lower case and is looked for in the text's foldForLiterals copy.
 */
export interface RequiredLiteral {
  text: string;
  folded: boolean;
}

/**
 * Strings at least one of which occurs in any match of an RE2 pattern, read from its syntax:
 * when the text holds none, the pattern cannot match and its automaton need not run. Null when
 * no such set is known. Conservative by construction: whatever this reader does not fully
 * understand (`\Q…\E`, octal escapes, odd braces, lookaround) gives null for the whole pattern,
 * and any part it cannot see into (classes, `.`, `\w`, assertions) only ends a literal run.
 */
export function requiredLiterals(source: string): RequiredLiteral[] | null {
  let nodes: Alternatives;
  try {
    nodes = new Reader(source).readAll();
  } catch (err) {
    if (err instanceof Unreadable) return null;
    throw err;
  }
  const required = alternativesLiterals(nodes);
  return required && required.length <= MAX_LITERALS ? required : null;
}

/**
 * The text as folded literals are looked for in: lower case, and "ſ" (U+017F) as "s", the one
 * character RE2's case folding equates with an ASCII letter that toLowerCase leaves alone (the
 * Kelvin sign already lowers to "k"). A character that lowers to more than itself ("İ" → "i̇")
 * can only make a literal seem present, never absent.
 */
export function foldForLiterals(text: string): string {
  const lower = text.toLowerCase();
  return lower.includes('\u017f') ? lower.replaceAll('\u017f', 's') : lower;
}

/** Past this many, looking for each costs about what the automaton does. */
const MAX_LITERALS = 64;

/** Any part of the pattern that is not a plain character: a class, `.`, an assertion, `\pL`. */
interface Opaque {
  kind: 'opaque';
}
/** A character as written; `folded` when `(?i)` is in force for it. */
interface Char {
  kind: 'char';
  char: string;
  folded: boolean;
}
/** `\d`: one of ten ASCII digits (RE2's Perl classes are ASCII-only, and `(?i)` does not change them). */
interface Digit {
  kind: 'digit';
}
interface Group {
  kind: 'group';
  alternatives: Alternatives;
}
type Atom = Opaque | Char | Digit | Group;
/** An atom, the fewest times it occurs, and whether it may occur more than that. */
interface Item {
  atom: Atom;
  min: number;
  repeats: boolean;
}
type Alternatives = Item[][];

class Unreadable extends Error {}

const DIGITS: RequiredLiteral[] = [...'0123456789'].map((text) => ({ text, folded: false }));

/** Of an alternation: every alternative must give literals, and any of them may be the one. */
function alternativesLiterals(alternatives: Alternatives): RequiredLiteral[] | null {
  const all = new Map<string, RequiredLiteral>();
  for (const sequence of alternatives) {
    const literals = sequenceLiterals(sequence);
    if (!literals) return null;
    for (const literal of literals) all.set(`${literal.folded ? 'i' : 's'}${literal.text}`, literal);
  }
  return [...all.values()];
}

/**
 * Of a sequence: runs of adjacent characters (with the same case rule) are strings the match
 * contains, and so is whatever a group that must occur requires; any one of these is a sound
 * answer, and the most selective is kept. A character that repeats ends its run: what follows
 * it need not be adjacent to the first occurrence.
 */
function sequenceLiterals(sequence: Item[]): RequiredLiteral[] | null {
  const candidates: RequiredLiteral[][] = [];
  let run = '';
  let runFolded = false;
  const endRun = () => {
    if (run) candidates.push([{ text: run, folded: runFolded }]);
    run = '';
  };
  for (const { atom, min, repeats } of sequence) {
    if (min === 0) {
      endRun();
      continue;
    }
    if (atom.kind === 'char') {
      if (run && atom.folded !== runFolded) endRun();
      run += atom.char;
      runFolded = atom.folded;
      if (repeats || min !== 1) endRun();
      continue;
    }
    endRun();
    if (atom.kind === 'digit') candidates.push(DIGITS);
    if (atom.kind === 'group') {
      const literals = alternativesLiterals(atom.alternatives);
      if (literals) candidates.push(literals);
    }
  }
  endRun();
  let best: RequiredLiteral[] | null = null;
  for (const candidate of candidates) if (!best || isMoreSelective(candidate, best)) best = candidate;
  return best;
}

/** Longer shortest string first (fewer chance hits), then fewer strings to look for. */
function isMoreSelective(a: RequiredLiteral[], b: RequiredLiteral[]): boolean {
  const shortest = (set: RequiredLiteral[]) => Math.min(...set.map((literal) => literal.text.length));
  return shortest(a) !== shortest(b) ? shortest(a) > shortest(b) : a.length < b.length;
}

/** Escapes that stand for one literal character. */
const CONTROL_ESCAPES: Record<string, string> = { a: '\x07', f: '\f', t: '\t', n: '\n', r: '\r', v: '\v' };
/** Escapes of a class or an assertion: opaque, one letter long. */
const OPAQUE_ESCAPES = new Set(['D', 's', 'S', 'w', 'W', 'b', 'B', 'A', 'z', 'C']);

/** A reader of RE2 syntax just deep enough to find literals; throws Unreadable on anything else. */
class Reader {
  private pos = 0;

  constructor(private readonly source: string) {}

  readAll(): Alternatives {
    const alternatives = this.readAlternatives(false);
    if (this.pos < this.source.length) throw new Unreadable();
    return alternatives;
  }

  /** Up to the `)` that closes the group (not consumed), or the end; `(?i)` lasts to there. */
  private readAlternatives(folded: boolean): Alternatives {
    const alternatives: Alternatives = [[]];
    while (this.pos < this.source.length && this.source[this.pos] !== ')') {
      const char = this.source[this.pos]!;
      if (char === '|') {
        this.pos += 1;
        alternatives.push([]);
        continue;
      }
      if (char === '(' && this.source[this.pos + 1] === '?') {
        const flags = /^\(\?(-?[imsU]+|[imsU]+-[imsU]+)\)/.exec(this.source.slice(this.pos));
        if (flags) {
          this.pos += flags[0].length;
          folded = foldedAfter(flags[1]!, folded);
          continue;
        }
      }
      const atom = this.readAtom(folded);
      alternatives[alternatives.length - 1]!.push({ atom, ...this.readQuantifier() });
    }
    return alternatives;
  }

  private readAtom(folded: boolean): Atom {
    const char = String.fromCodePoint(this.source.codePointAt(this.pos)!);
    this.pos += char.length;
    if (char === '(') return this.readGroup(folded);
    if (char === '[') return this.skipClass();
    if (char === '\\') return this.readEscape(folded);
    if (char === '.' || char === '^' || char === '$') return { kind: 'opaque' };
    if ('*+?{)'.includes(char)) throw new Unreadable();
    return literal(char, folded);
  }

  private readGroup(folded: boolean): Group {
    const rest = this.source.slice(this.pos);
    const head = /^(?:\?P?<[A-Za-z_][A-Za-z0-9_]*>|\?:|\?(-?[imsU]+|[imsU]+-[imsU]+):)?/.exec(rest)!;
    if (head[0] === '' && rest.startsWith('?')) throw new Unreadable();
    this.pos += head[0].length;
    const alternatives = this.readAlternatives(head[1] ? foldedAfter(head[1], folded) : folded);
    if (this.source[this.pos] !== ')') throw new Unreadable();
    this.pos += 1;
    return { kind: 'group', alternatives };
  }

  /** `[…]`, with `]` first taken literally, escapes and `[:name:]` inside. */
  private skipClass(): Opaque {
    if (this.source[this.pos] === '^') this.pos += 1;
    if (this.source[this.pos] === ']') this.pos += 1;
    while (this.pos < this.source.length) {
      const char = this.source[this.pos]!;
      if (char === ']') {
        this.pos += 1;
        return { kind: 'opaque' };
      }
      if (char === '\\') {
        this.pos += 1;
        this.readEscape(false);
      } else if (this.source.startsWith('[:', this.pos)) {
        const end = this.source.indexOf(':]', this.pos + 2);
        if (end === -1) throw new Unreadable();
        this.pos = end + 2;
      } else {
        this.pos += 1;
      }
    }
    throw new Unreadable();
  }

  /** After the backslash. */
  private readEscape(folded: boolean): Atom {
    const char = this.source[this.pos];
    if (char === undefined) throw new Unreadable();
    this.pos += 1;
    if (char === 'd') return { kind: 'digit' };
    if (OPAQUE_ESCAPES.has(char)) return { kind: 'opaque' };
    if (char in CONTROL_ESCAPES) return literal(CONTROL_ESCAPES[char]!, folded);
    if (char === 'p' || char === 'P' || char === 'x') {
      const braced = /^\{[^}]*\}/.exec(this.source.slice(this.pos));
      const length = braced ? braced[0].length : char === 'x' ? 2 : 1;
      if (this.pos + length > this.source.length) throw new Unreadable();
      this.pos += length;
      return { kind: 'opaque' };
    }
    // RE2 allows any punctuation to be escaped; letters and digits not named above are either
    // errors, octal or `\Q…\E`, none worth reading.
    if (/[!-/:-@[-`{-~]/.test(char)) return literal(char, folded);
    throw new Unreadable();
  }

  /** The quantifier after an atom, if any. */
  private readQuantifier(): { min: number; repeats: boolean } {
    const match = /^(?:([*+?])|\{(\d+)(,?)\d*\})\??/.exec(this.source.slice(this.pos));
    if (!match) {
      if (this.source[this.pos] === '{') throw new Unreadable();
      return { min: 1, repeats: false };
    }
    this.pos += match[0].length;
    const next = this.source[this.pos];
    if (next !== undefined && '*+?{'.includes(next)) throw new Unreadable();
    if (match[1]) return { min: match[1] === '+' ? 1 : 0, repeats: true };
    return { min: Number(match[2]), repeats: true };
  }
}

/**
 * A character of the pattern. Ignoring case, only ASCII characters are kept as literals: their
 * RE2 fold partners are known (see foldForLiterals); any other letter is opaque.
 */
function literal(char: string, folded: boolean): Char | Opaque {
  if (!folded) return { kind: 'char', char, folded };
  return char.charCodeAt(0) < 0x80 && char.length === 1 ? { kind: 'char', char: char.toLowerCase(), folded } : { kind: 'opaque' };
}

/** `(?i)`, `(?-i)`, `(?s-i)`…: whether case is ignored after the flags. */
function foldedAfter(flags: string, folded: boolean): boolean {
  const [on = '', off = ''] = flags.split('-');
  if (off.includes('i')) return false;
  if (on.includes('i')) return true;
  return folded;
}
