import { compile, type HtmlToTextOptions } from 'html-to-text';
import {
  clip,
  isBlank,
  isDashName,
  isDecorationLine,
  isMobileSignature,
  isNameLine,
  isQuoteLine,
  isRuleAboveQuote,
  isSignOff,
  isSignatureDelimiter,
  matchHeader,
  messageSeparatorKind,
  nextNonBlank,
  startsFieldBlock,
} from './reply-patterns.js';

interface ExtractOptions {
  /** Strip heuristic signatures ("-Bob", "Thanks,\nBob"), not only delimited ones. */
  softSignatures: boolean;
}

type Kind = 'text' | 'quote' | 'blank';
interface Line {
  text: string;
  kind: Kind;
}

interface Scan {
  lines: Line[];
  /** The message is a forward: its first splitter is a "Forwarded message" banner. */
  forwarded: boolean;
  /** A quote header was followed by `>` lines, so those lines are history for sure. */
  markedQuote: boolean;
  /** The scan stopped at a mobile signature ("Sent from my iPhone"). */
  stoppedAtMobileSignature: boolean;
}

/**
 * Walks the lines top-down and stops at the first point where unmarked history starts
 * (a header without `>` lines after it, "-----Original Message-----", a From: block, a
 * signature). A header followed by `>` lines only hides that quote: text after it is kept,
 * which is how bottom-posted and inline replies survive.
 */
function scan(lines: string[]): Scan {
  const out: Line[] = [];
  let markedQuote = false;
  let hasText = false;
  const result = (stoppedAtMobileSignature = false, forwarded = false): Scan => ({
    lines: out,
    markedQuote,
    stoppedAtMobileSignature,
    forwarded,
  });
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const line = clip(raw);
    if (isBlank(line)) {
      out.push({ text: '', kind: 'blank' });
      continue;
    }
    if (isQuoteLine(line)) {
      out.push({ text: raw, kind: 'quote' });
      continue;
    }
    const header = matchHeader(lines, i);
    if (header) {
      if (header.prefix) {
        out.push({ text: header.prefix, kind: 'text' });
        hasText = true;
      }
      const next = nextNonBlank(lines, i + header.span);
      if (next === -1 || !isQuoteLine(clip(lines[next] ?? ''))) break;
      markedQuote = true;
      i += header.span - 1;
      continue;
    }
    const separator = messageSeparatorKind(line);
    if (separator === 'forward' && !markedQuote) {
      // A forward, not a reply: the forwarded message is the content, keep it whole.
      for (let j = i; j < lines.length; j++) out.push({ text: lines[j] ?? '', kind: 'text' });
      return result(false, true);
    }
    if (separator !== null || startsFieldBlock(lines, i) || isRuleAboveQuote(lines, i)) break;
    if (isMobileSignature(line) || isSignatureDelimiter(line)) {
      // A signature with nothing above it is not a cut point; just drop it.
      if (!hasText) continue;
      return result(isMobileSignature(line));
    }
    out.push({ text: raw, kind: 'text' });
    hasText = true;
  }
  return result();
}

/**
 * Marks text lines wedged between quote lines with no blank line around them and not
 * starting like a sentence: those are quoted lines a mail client re-wrapped without `>`.
 */
function absorbWrappedQuoteLines(lines: Line[]): void {
  let i = 0;
  while (i < lines.length) {
    if (lines[i]?.kind !== 'text' || lines[i - 1]?.kind !== 'quote') {
      i++;
      continue;
    }
    let end = i;
    while (lines[end]?.kind === 'text') end++;
    const first = (lines[i]?.text ?? '').trim();
    if (lines[end]?.kind === 'quote' && !/^[\p{Lu}\p{N}]/u.test(first)) {
      for (let j = i; j < end; j++) (lines[j] as Line).kind = 'quote';
    }
    i = end;
  }
}

function removeQuotes(scanned: Scan): Line[] {
  if (scanned.forwarded) return scanned.lines;
  const quoteCount = scanned.lines.filter((l) => l.kind === 'quote').length;
  // A single ">" line with no header is more likely decoration (">>> link <<<") than a quote.
  if (!scanned.markedQuote && quoteCount < 2) {
    return scanned.lines.map((l) => (l.kind === 'quote' ? { ...l, kind: 'text' as const } : l));
  }
  absorbWrappedQuoteLines(scanned.lines);
  return scanned.lines.filter((l) => l.kind !== 'quote');
}

function trimTrailing(lines: string[]): void {
  while (lines.length > 0) {
    const last = lines[lines.length - 1] ?? '';
    if (!isBlank(last) && !isDecorationLine(last)) return;
    lines.pop();
  }
}

/** "-Bob", "Thanks,\nBob", "Regards,\n\nJohn Doe\nCEO": heuristic closing signatures. */
function stripSoftSignature(lines: string[]): void {
  const last = lines[lines.length - 1];
  const beforeLast = lines[lines.length - 2] ?? '';
  if (last !== undefined && lines.length > 1 && isDashName(last) && !/^\s*-/.test(beforeLast)) {
    lines.pop();
    trimTrailing(lines);
  }
  let tail = 0;
  for (let j = lines.length - 1; j > 0 && tail <= 4; j--) {
    const line = lines[j] ?? '';
    if (isBlank(line)) continue;
    if (tail >= 1 && isSignOff(line) && isBlank(lines[j - 1] ?? '')) {
      lines.length = j;
      trimTrailing(lines);
      return;
    }
    if (line.trim().length > 80) return;
    tail++;
  }
}

/** "Stavros Xxxxxx\nvia mobile": a bare name stuck to the device line belongs to it. */
function stripNameAboveMobileSignature(lines: string[]): void {
  const n = lines.length;
  if (n >= 3 && isNameLine(lines[n - 1] ?? '') && isBlank(lines[n - 2] ?? '')) lines.pop();
}

function normalize(text: string): string {
  return text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
}

function extract(text: string, options: ExtractOptions): string {
  const scanned = scan(normalize(text).split('\n'));
  const lines = removeQuotes(scanned).map((l) => l.text.trimEnd());
  trimTrailing(lines);
  if (options.softSignatures && !scanned.forwarded) {
    if (scanned.stoppedAtMobileSignature) stripNameAboveMobileSignature(lines);
    stripSoftSignature(lines);
  }
  trimTrailing(lines);
  return lines.join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

/**
 * Returns only the new text of a plain-text customer email: quoted history (`>` lines),
 * quote headers in many languages ("On … wrote:", "Le … a écrit :", …), Outlook header
 * blocks and "-----Original Message-----" banners with everything below them, and
 * signatures ("-- ", "Sent from my iPhone", short sign-offs) are removed. A message whose
 * first separator is a "Forwarded message" banner is a forward and is kept whole.
 * Output uses LF line endings and is trimmed.
 *
 * Pure and linear in the input size; never throws (returns '' on internal failure).
 */
export function extractVisibleReply(text: string): string {
  try {
    return extract(String(text ?? ''), { softSignatures: true });
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------
// HTML

// Private-use marker that no real mail contains; everything after it is quoted history.
const CUT_MARK = '\uE000VR-CUT\uE000';
const LAST_QUOTE_ATTR = 'data-vr-last-quote';
const MAX_TAG_SCAN = 100_000;

const FORWARD_BANNER_RE = /^\s*-{3,}\s*Forwarded message/i;

interface DomNode {
  type?: string;
  data?: string;
  children?: DomNode[];
}

/** The first non-blank text inside an element, looking at a bounded number of nodes. */
function firstText(elem: DomNode): string {
  const stack: DomNode[] = [elem];
  for (let n = 0; n < 200 && stack.length > 0; n++) {
    const node = stack.pop() as DomNode;
    if (node.type === 'text' && node.data?.trim()) return node.data;
    if (node.children) for (let c = node.children.length - 1; c >= 0; c--) stack.push(node.children[c] as DomNode);
  }
  return '';
}

const HTML_OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  limits: { maxDepth: 400 },
  formatters: {
    cutHere: (_elem, _walk, builder) => {
      builder.openBlock();
      builder.addLiteral(CUT_MARK);
      builder.closeBlock();
    },
    // Gmail wraps forwards in the same div as quotes; a forward's content is kept.
    gmailQuote: (elem, walk, builder) => {
      if (!FORWARD_BANNER_RE.test(firstText(elem))) return;
      builder.openBlock();
      walk(elem.children, builder);
      builder.closeBlock();
    },
  },
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    // No "> " prefix: whether a blockquote is history is decided structurally or by a header.
    { selector: 'blockquote', format: 'block' },
    { selector: 'blockquote[type=cite]', format: 'skip' },
    { selector: `blockquote[${LAST_QUOTE_ATTR}]`, format: 'skip' },
    { selector: 'div.gmail_quote', format: 'gmailQuote' },
    { selector: 'div.gmail_quote_container', format: 'gmailQuote' },
    { selector: 'div.moz-cite-prefix', format: 'skip' },
    { selector: '.yahoo_quoted', format: 'skip' },
    { selector: '#divRplyFwdMsg', format: 'cutHere' },
    { selector: '#appendonsend', format: 'cutHere' },
    { selector: '#mail-editor-reference-message-container', format: 'cutHere' },
    { selector: '#zwchr', format: 'cutHere' },
    { selector: '#OLK_SRC_BODY_SECTION', format: 'cutHere' },
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((h) => ({ selector: h, options: { uppercase: false } })),
  ],
};

/** Compiled once: html-to-text's convert() compiles its options (selectors, formatters) on every call. */
const convertHtml = compile(HTML_OPTIONS);

/**
 * Tags the last top-level blockquote (other than Gmail's own) so it is skipped: clients
 * that quote with plain blockquotes put the history last. Skipped when a Gmail quote div
 * exists, as that one already holds the history.
 */
function markLastBlockquote(html: string): string {
  if (/<div\b[^<>]{0,1000}\bgmail_quote\b/i.test(html)) return html;
  const re = /<(\/?)blockquote\b([^<>]{0,2000})>/gi;
  let depth = 0;
  let last = -1;
  for (let n = 0; n < MAX_TAG_SCAN; n++) {
    const m = re.exec(html);
    if (!m) break;
    if (m[1]) {
      depth = Math.max(0, depth - 1);
      continue;
    }
    if (depth === 0 && !/\bgmail_quote\b/i.test(m[2] ?? '')) last = m.index + '<blockquote'.length;
    depth++;
  }
  if (last === -1) return html;
  return `${html.slice(0, last)} ${LAST_QUOTE_ATTR}="1"${html.slice(last)}`;
}

/** Fallback when html-to-text gives up: drop tags, keep line breaks, decode basic entities. */
function crudeHtmlToText(html: string): string {
  return html
    .replace(/<br\b[^<>]{0,2000}>|<\/(?:p|div|li|tr|h\d)\s*>/gi, '\n')
    .replace(/<[^<>]{0,2000}>/g, ' ')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&lt;/gi, '<')
    .replace(/&gt;/gi, '>')
    .replace(/&quot;/gi, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/gi, '&');
}

function htmlToText(html: string): string {
  let text: string;
  try {
    text = convertHtml(markLastBlockquote(html));
  } catch {
    text = crudeHtmlToText(html);
  }
  const cut = text.indexOf(CUT_MARK);
  return cut === -1 ? text : text.slice(0, cut);
}

/**
 * Returns only the new text of an HTML customer email. Quoted parts are removed in the
 * HTML first (Gmail, Apple/Thunderbird `blockquote type=cite`, Outlook `divRplyFwdMsg`,
 * Yahoo, the last plain blockquote), the rest is converted with html-to-text and then
 * cleaned like plain text, except that sign-offs such as "Thanks,\nAlex" are kept.
 *
 * Never throws (returns '' on internal failure).
 */
export function extractVisibleReplyFromHtml(html: string): string {
  try {
    return extract(htmlToText(String(html ?? '')), { softSignatures: false });
  } catch {
    return '';
  }
}
