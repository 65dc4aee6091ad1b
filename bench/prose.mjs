// The prose the benchmarks' customers write: CRLF lines of at most 76 characters, none starting
// with '.', so no dot-stuffing is needed. bench/smtp-client.mjs sends it; bench/rules-bench.ts
// evaluates the rules on it.
const SENTENCES = [
  'Hello, since yesterday the chat widget on our pricing page does not load for some visitors.',
  'We tried clearing the cache and reinstalling the snippet, but nothing changed.',
  'Our customers write to us that the bubble appears for a second and then disappears again.',
  'Could you please have a look at our account and tell us what we are doing wrong?',
  'The invoice for last month also shows two seats although we only use one of them.',
  'I attach the steps we followed: first we opened the page, then we clicked the bubble.',
  'This is quite urgent for us because the campaign starts on Monday morning.',
  'Thank you in advance for your help, and have a nice day.',
];
/** About `bytes` of text, variant `i` (which sentence it starts with). */
export function bodyText(i, bytes) {
  const lines = [];
  let len = 0;
  let k = i;
  while (len < bytes) {
    let line = '';
    while (line.length < 60) line += (line ? ' ' : '') + SENTENCES[k++ % SENTENCES.length];
    // wrap at ~76 characters
    for (let p = 0; p < line.length && len < bytes; p += 76) {
      const piece = line.slice(p, p + 76).trimStart();
      lines.push(piece);
      len += piece.length + 2;
    }
  }
  return lines.join('\r\n');
}
