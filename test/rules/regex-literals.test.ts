import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { CompiledRegex } from '../../rules/compile-regex.js';
import { foldForLiterals, requiredLiterals } from '../../rules/regex-literals.js';
import { Rng } from '../helpers/fuzz.js';

/** The literals as `text` (case-sensitive) or `i:text` (looked for in the folded text), sorted. */
function literalsOf(source: string): string[] | null {
  return requiredLiterals(source)?.map((literal) => (literal.folded ? `i:${literal.text}` : literal.text)).sort() ?? null;
}

describe('requiredLiterals', () => {
  it.each([
    ['plain text', 'invoice', ['invoice']],
    ['the most selective run of a sequence', 'ab\\s+invoice', ['invoice']],
    ['every alternative, when each has one', 'password|passwd|pwd', ['passwd', 'password', 'pwd']],
    ['nothing when one alternative has none', 'password|[0-9]+', null],
    ['nothing when an alternative is empty', '(?:abc|)', null],
    ['not an optional group: `(abc)?` need not occur', '(abc)?x', ['x']],
    ['not an optional group, and nothing else here', '(abc)?', null],
    ['a group that must occur', '(?:project|site)\\s*:', ['project', 'site']],
    ['a group repeated at least once', '(?:ab|cd){2,3}', ['ab', 'cd']],
    ['not a character that may be absent', 'colou?r', ['colo']],
    ['not across a repeated character: "abbc" has no "abc"', 'ab+c', ['ab']],
    ['not across `*`', 'ab*cd', ['cd']],
    ['lower case, to be looked for folded, under (?i)', '(?i)PassWord', ['i:password']],
    ['(?i) for the rest of its group, past `|` as RE2 reads it', 'a(?i)b|C', ['a', 'i:c']],
    ['(?i:…) for its group only', 'x(?i:ABC)yz', ['i:abc']],
    ['(?-i) ends it', '(?i)ab(?-i)CDE', ['CDE']],
    ['ten digits for \\d', '\\b(?:\\d[ -]?){12,18}\\d\\b', ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']],
    ['escaped punctuation as itself', 'a\\.b\\*c', ['a.b*c']],
    ['control escapes as their character', 'x\\ty', ['x\ty']],
    ['a class as a break', 'ab[c-e]fgh', ['fgh']],
    ['a class with `]` first and escapes', '[]\\]x]yz', ['yz']],
    ['a class with a POSIX name', 'ab[[:alpha:]]c', ['ab']],
    ['\\p classes as a break', 'ab\\p{Greek}cde\\pLf', ['cde']],
    ['a hex escape as a break', 'caf\\x{e9}s', ['caf']],
    ['non-ASCII letters as they are, case-sensitive', 'ñandú', ['ñandú']],
    ['non-ASCII letters as a break under (?i): their fold partners are not all lower case', '(?i)ñandú', ['i:and']],
    ['characters outside the BMP', '😀x', ['😀x']],
    ['named groups', '(?P<value>abc)|(?<v>de)', ['abc', 'de']],
    ['nothing for \\Q…\\E', '\\Qa.b\\E', null],
    ['nothing for a brace that is not a repeat', 'a{,3}b', null],
    ['nothing for octal escapes', '\\101bc', null],
    ['nothing for lookaround', '(?=abc)abc', null],
    ['an address\'s "@"', '[a-z]+@[a-z]+', ['@']],
    ['nothing for a pattern of classes', '[a-z]+[0-9]+', null],
  ])('%s', (_, source, expected) => {
    expect(literalsOf(source)).toEqual(expected);
  });

  it('gives up past 64 literals', () => {
    const words = Array.from({ length: 65 }, (_, i) => `word${i}`);
    expect(requiredLiterals(words.join('|'))).toBeNull();
    expect(requiredLiterals(words.slice(0, 64).join('|'))).toHaveLength(64);
  });
});

describe('foldForLiterals', () => {
  it('maps every character RE2 equates with an ASCII character, ignoring case, to that character in lower case', () => {
    // Every code point but ASCII and the surrogates, against RE2's own case folding.
    const all: string[] = [];
    for (let code = 0x80; code <= 0x10ffff; code++) if (code < 0xd800 || code > 0xdfff) all.push(String.fromCodePoint(code));
    // ASCII characters other than letters have no partner at all.
    expect(RE2JS.compile('(?i)[\\x00-\\x40\\x5b-\\x60\\x7b-\\x7f]').test(all.join(''))).toBe(false);
    const found: string[] = [];
    const matcher = RE2JS.compile('(?i)[a-z]').matcher(all.join(''));
    while (matcher.find()) found.push(matcher.group()!);
    expect(found.length).toBeGreaterThan(0);
    for (const char of found) {
      const folded = foldForLiterals(char);
      expect(folded, `U+${char.codePointAt(0)!.toString(16)}`).toMatch(/^[a-z]$/);
      expect(RE2JS.compile(`(?i)${folded}`).matches(char)).toBe(true);
    }
  });
});

describe('CompiledRegex.mayMatch', () => {
  it('never rules out a text the pattern matches (random patterns, and texts written like them)', () => {
    const rng = new Rng(20261204);
    const next = () => rng.next();
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
    const times = (text: string, min: number) => text.repeat(min + Math.floor(next() * 3));
    const words = ['ab', 'Key', 'sk', 'pwd', 'x1', '7', 'é', 'ñ', ' ', '.', '😀'];
    // Each piece of a pattern, and how a text that matches it might be written.
    const pieces: Array<[string, () => string]> = [
      ...words.map((word): [string, () => string] => [word, () => word]),
      ['\\d', () => String(Math.floor(next() * 10))],
      ['\\s+', () => times(' ', 1)],
      ['[a-c]', () => pick(['a', 'b', 'c'])],
      ['.', () => pick(words)],
      ['\\b', () => ''],
      ['^', () => ''],
      ['(?i)', () => ''],
      ['(?-i)', () => ''],
      ['\\.', () => '.'],
      ['b?', () => times('b', 0)],
      ['c+', () => times('c', 1)],
      ['d*', () => times('d', 0)],
      ['e{2}', () => 'ee'],
      ['(?:', () => ''],
      ['(?i:', () => ''],
      ['(', () => ''],
      [')', () => ''],
      ['|', () => ''],
    ];
    // What ignoring case lets a text write instead: other case, the Kelvin sign, the long s.
    const respell = (text: string) =>
      [...text].map((char) => (next() < 0.3 ? (char === 'k' ? '\u212a' : char === 's' ? '\u017f' : char.toUpperCase()) : char)).join('');
    let checked = 0;
    let matched = 0;
    while (checked < 4000) {
      const drawn = Array.from({ length: 1 + Math.floor(next() * 7) }, () => pick(pieces));
      const source = drawn.map(([piece]) => piece).join('');
      let regex: RE2JS;
      try {
        regex = RE2JS.compile(source);
      } catch {
        continue; // an unbalanced draw
      }
      const compiled = new CompiledRegex(source);
      for (let i = 0; i < 10; i++) {
        const written = drawn.map(([, write]) => write()).join('');
        const text = next() < 0.5 ? respell(written) : written;
        const matches = regex.test(text);
        if (matches) matched += 1;
        expect(!matches || compiled.mayMatch(text), `${source} on ${JSON.stringify(text)}`).toBe(true);
        checked += 1;
      }
    }
    expect(matched).toBeGreaterThan(1000);
  });

  it('rules out texts without the literals, folded or not', () => {
    const compiled = new CompiledRegex('(?i)(?:password|pwd)\\s*[:=]\\s*\\S+');
    expect(compiled.mayMatch('we have no secrets here')).toBe(false);
    expect(compiled.mayMatch('My PASSWORD: x')).toBe(true);
    expect(compiled.mayMatch('my paſſword: x')).toBe(true);
    expect(compiled.test('my paſſword: x')).toBe(true);
    expect(new CompiledRegex('[a-z]+').mayMatch('12')).toBe(true);
  });
});
