// Writes a CRLF copy of every bounce in the unseen half under maildir/crlf/ and lists the copies in
// expected.json (variant 'crlf', variant_of the LF file, the same expected rows). Rerunning it
// replaces the copies and their entries, so it is safe after expected.json changes.
//   node test/corpus/own-bounces/make-crlf.mjs
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const manifest = `${here}/expected.json`;
const entries = JSON.parse(readFileSync(manifest, 'utf8')).filter((e) => e.variant !== 'crlf');

rmSync(`${here}/maildir/crlf`, { recursive: true, force: true });
const copies = [];
for (const entry of entries) {
  if (entry.split !== 'unseen' || entry.expected.length === 0) continue;
  const lf = readFileSync(`${here}/${entry.file}`);
  if (lf.includes('\r\n')) throw new Error(`${entry.file} already has CRLF line ends`);
  const file = entry.file.replace(/^maildir\//, 'maildir/crlf/');
  mkdirSync(dirname(`${here}/${file}`), { recursive: true });
  writeFileSync(`${here}/${file}`, lf.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
  const { sha256: _sha256, note: _note, ...rest } = entry;
  copies.push({ ...rest, file, variant: 'crlf', variant_of: entry.file });
}
writeFileSync(manifest, JSON.stringify([...entries, ...copies], null, 1) + '\n');
console.log(`${copies.length} CRLF copies written`);
