/** How far into a raw message its header block is looked for. */
const HEADER_SCAN_BYTES = 64 * 1024;

/**
 * The first `name:` header of a raw message, unfolded, or '' — read straight from the bytes, for
 * when there is no parsed message to ask (it could not be parsed, or is not parsed yet). Looks at
 * the header block within the first 64 KB only.
 */
export function rawHeaderValue(raw: Buffer, name: string): string {
  const head = raw.subarray(0, HEADER_SCAN_BYTES).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const block = end === -1 ? head : head.slice(0, end);
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`^${escaped}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(block);
  return match ? match[1]!.replace(/\r?\n[ \t]+/g, ' ').trim() : '';
}
