/**
 * `Authentication-Results` (RFC 8601): reading the header, and finding the SPF result a trusted
 * relay in front of mailroom stamped on a message.
 */

/** Longest header value parsed; the rest is ignored, so hostile input costs bounded work. */
const MAX_VALUE_CHARS = 16 * 1024;

/** How far into a raw message its header block is read. */
const HEADER_SCAN_BYTES = 1024 * 1024;

/** The SPF results of RFC 8601 §2.7.2 that mailroom acts on; any other word is not believed. */
const SPF_RESULTS: ReadonlySet<string> = new Set(['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror']);

export interface AuthenticationResult {
  /** Lower-cased, without its version: `spf`, `dkim`, `dmarc`, … */
  method: string;
  /** Lower-cased: `pass`, `fail`, … */
  result: string;
  reason?: string;
  /** `ptype.property` (lower-cased) to its value as written, e.g. `smtp.mailfrom` → `ana@cliente.es`. */
  properties: Record<string, string>;
}

export interface AuthenticationResults {
  /** Lower-cased: authserv-ids compare case-insensitively. */
  authservId: string;
  results: AuthenticationResult[];
}

export interface TrustedSpf {
  result: string;
  /** Lower-cased domain of `smtp.mailfrom`, else of `smtp.helo`, else null. */
  domain: string | null;
  authservId: string;
}

/** Thrown inside the parser when the text breaks the grammar; never leaves this file. */
class Malformed extends Error {}

const KEYWORD = /[A-Za-z0-9-]+/y;
/** RFC 2045 token: printable ASCII except tspecials `()<>@,;:\"/[]?=`. */
const TOKEN = /[!#-'*+\-.0-9A-Z^-~]+/y;
const DIGITS = /[0-9]+/y;
/** An unquoted property value: `user@domain`, `@domain`, a domain, a token. */
const PVALUE_RUN = /[^\s;()"]*/y;

class Scanner {
  pos = 0;

  constructor(readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  expect(char: string): void {
    if (this.text[this.pos] !== char) throw new Malformed(`expected ${char}`);
    this.pos++;
  }

  /** Folding white space and comments, which may nest and hold `\)`, `;` and `=`. */
  skipCfws(): void {
    for (;;) {
      const c = this.text[this.pos];
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') this.pos++;
      else if (c === '(') this.skipComment();
      else return;
    }
  }

  skipComment(): void {
    let depth = 0;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos++];
      if (c === '\\') this.pos++;
      else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) return;
    }
    throw new Malformed('unclosed comment');
  }

  /** The unescaped content of a quoted string starting at the current position. */
  quoted(): string {
    this.expect('"');
    let out = '';
    while (this.pos < this.text.length) {
      const c = this.text[this.pos++]!;
      if (c === '"') return out;
      if (c === '\\') {
        if (this.pos >= this.text.length) break;
        out += this.text[this.pos++];
      } else {
        out += c;
      }
    }
    throw new Malformed('unclosed quoted string');
  }

  match(pattern: RegExp): string | null {
    pattern.lastIndex = this.pos;
    const found = pattern.exec(this.text);
    if (!found) return null;
    this.pos = pattern.lastIndex;
    return found[0];
  }

  keyword(): string {
    const word = this.match(KEYWORD);
    if (word === null) throw new Malformed('expected a keyword');
    return word.toLowerCase();
  }

  /** RFC 2045 `value`: a token or a quoted string. */
  value(): string {
    if (this.peek() === '"') return this.quoted();
    const token = this.match(TOKEN);
    if (token === null) throw new Malformed('expected a value');
    return token;
  }

  /** `value / [[local-part] "@"] domain-name`; a quoted local part keeps its `@domain`. */
  propertyValue(): string {
    if (this.peek() !== '"') return this.match(PVALUE_RUN) ?? '';
    const quoted = this.quoted();
    if (this.peek() !== '@') return quoted;
    return quoted + (this.match(PVALUE_RUN) ?? '');
  }

  /** Moves to the next top-level `;` (or the end), stepping over quoted strings and comments. */
  skipToSemicolon(): void {
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === ';') return;
      try {
        if (c === '"') this.quoted();
        else if (c === '(') this.skipComment();
        else this.pos++;
      } catch {
        this.pos = this.text.length;
      }
    }
  }
}

/** One resinfo after its `;`, up to the next `;` or the end; null for an empty one or `none`. */
function readResinfo(s: Scanner): AuthenticationResult | null {
  s.skipCfws();
  if (s.atEnd() || s.peek() === ';') return null;
  const method = s.keyword();
  s.skipCfws();
  if (method === 'none' && (s.atEnd() || s.peek() === ';')) return null;
  if (s.peek() === '/') {
    s.pos++;
    s.skipCfws();
    if (s.match(DIGITS) === null) throw new Malformed('expected a method version');
    s.skipCfws();
  }
  s.expect('=');
  s.skipCfws();
  const found: AuthenticationResult = { method, result: s.keyword(), properties: {} };
  for (;;) {
    s.skipCfws();
    if (s.atEnd() || s.peek() === ';') return found;
    const ptype = s.keyword();
    s.skipCfws();
    if (ptype === 'reason' && s.peek() === '=') {
      s.pos++;
      s.skipCfws();
      const reason = s.value();
      found.reason ??= reason;
      continue;
    }
    s.expect('.');
    s.skipCfws();
    const name = `${ptype}.${s.keyword()}`;
    s.skipCfws();
    s.expect('=');
    s.skipCfws();
    const value = s.propertyValue();
    // the first of a repeated property stands, as the first resinfo of a method does
    if (!Object.hasOwn(found.properties, name)) found.properties[name] = value;
  }
}

/**
 * An `Authentication-Results` value (RFC 8601 §2.2): the authserv-id and each method's result.
 * A malformed resinfo is skipped, the others kept; null when there is no authserv-id followed by
 * `;`. Only the first 16 KB are read.
 */
export function parseAuthenticationResults(value: string): AuthenticationResults | null {
  const truncated = value.length > MAX_VALUE_CHARS;
  const s = new Scanner(truncated ? value.slice(0, MAX_VALUE_CHARS) : value);
  let authservId: string;
  try {
    s.skipCfws();
    authservId = s.value().toLowerCase();
    s.skipCfws();
    if (s.match(DIGITS) !== null) s.skipCfws();
  } catch (error) {
    if (error instanceof Malformed) return null;
    throw error;
  }
  if (authservId === '' || s.peek() !== ';') return null;

  const results: AuthenticationResult[] = [];
  while (!s.atEnd()) {
    s.expect(';');
    const start = s.pos;
    try {
      const found = readResinfo(s);
      // a resinfo running into the 16 KB cut may have lost the end of a value: not believed
      if (found && !(truncated && s.atEnd())) results.push(found);
    } catch (error) {
      if (!(error instanceof Malformed)) throw error;
      s.pos = start;
      s.skipToSemicolon();
    }
  }
  return { authservId, results };
}

/**
 * The fields of a raw message's header block, top-down, unfolded, names lower-cased. Reads up to
 * the first empty line within the first 1 MB; a line that is neither a field nor a continuation
 * is skipped with its continuations.
 */
function* headerFields(raw: Buffer): Generator<{ name: string; value: string }> {
  const text = raw.subarray(0, HEADER_SCAN_BYTES).toString('latin1');
  let field: { name: string; value: string } | null = null;
  let lineStart = 0;
  while (lineStart < text.length) {
    const newline = text.indexOf('\n', lineStart);
    let lineEnd = newline === -1 ? text.length : newline;
    const next = lineEnd + 1;
    if (lineEnd > lineStart && text[lineEnd - 1] === '\r') lineEnd--;
    const line = text.slice(lineStart, lineEnd);
    lineStart = next;
    if (line === '') break;
    if (line[0] === ' ' || line[0] === '\t') {
      if (field) field.value += line;
      continue;
    }
    if (field) yield field;
    // RFC 5322 field-name, with the obsolete white space before the colon allowed
    const name = /^([!-9;-~]+)[ \t]*:/.exec(line);
    field = name ? { name: name[1]!.toLowerCase(), value: line.slice(name[0].length) } : null;
  }
  if (field) yield field;
}

/** The domain of an SMTP identity: after the last `@`, or the whole value when it has none. */
function identityDomain(identity: string | undefined): string | null {
  if (identity === undefined) return null;
  const bare = identity.trim().replace(/^<(.*)>$/, '$1');
  return bare.slice(bare.lastIndexOf('@') + 1).toLowerCase() || null;
}

/**
 * The SPF result a trusted relay stamped on a message: from the first `Authentication-Results`
 * above the topmost `Received` whose authserv-id is one of `authservIds` and that has an `spf`
 * result. Only headers above the topmost `Received` were added by the relay itself (it puts its
 * `Authentication-Results` above its own `Received`); everything below came from the sender and
 * may be forged. A message without a `Received` header passed no relay: null. Null too when
 * nothing trusted is found or the result word is not a known one, so the local checks run.
 */
export function trustedSpfResult(raw: Buffer, authservIds: string[]): TrustedSpf | null {
  const trusted = new Set(authservIds.map((id) => id.trim().toLowerCase()).filter((id) => id !== ''));
  if (trusted.size === 0) return null;

  const aboveReceived: string[] = [];
  let sawReceived = false;
  for (const field of headerFields(raw)) {
    if (field.name === 'received') {
      sawReceived = true;
      break;
    }
    if (field.name === 'authentication-results') aboveReceived.push(field.value);
  }
  if (!sawReceived) return null;

  for (const value of aboveReceived) {
    const parsed = parseAuthenticationResults(value);
    if (!parsed || !trusted.has(parsed.authservId)) continue;
    const spf = parsed.results.find((found) => found.method === 'spf');
    if (!spf) continue;
    // the topmost trusted SPF result decides, even when its word is unknown: no falling through
    if (!SPF_RESULTS.has(spf.result)) return null;
    const domain = identityDomain(spf.properties['smtp.mailfrom']) ?? identityDomain(spf.properties['smtp.helo']);
    return { result: spf.result, domain, authservId: parsed.authservId };
  }
  return null;
}
