/** How far into a raw message its header block is looked for. */
const HEADER_SCAN_BYTES = 64 * 1024;

/**
 * The first `name:` header of a raw message, unfolded, or '' — read straight from the bytes, for
 * when there is no parsed message to ask (it could not be parsed, or is not parsed yet). Looks at
 * the header block within the first 64 KB only.
 */
export function rawHeaderValue(raw: Buffer, name: string): string {
  return headerFieldValue(rawHeaderBlock(raw), name);
}

/**
 * A raw message's header block (within the first 64 KB), as latin1 text: found in the bytes, so
 * that only the header is decoded; read several fields of it with `headerFieldValue`.
 */
export function rawHeaderBlock(raw: Buffer): string {
  const head = raw.subarray(0, HEADER_SCAN_BYTES);
  const end = emptyLineAt(head);
  return head.toString('latin1', 0, end === -1 ? head.length : end);
}

/** Where the line break before the first empty line starts (CRLF or bare LF), or -1. */
function emptyLineAt(head: Buffer): number {
  for (let at = head.indexOf(0x0a); at !== -1; at = head.indexOf(0x0a, at + 1)) {
    const next = head[at + 1] === 0x0d ? at + 2 : at + 1;
    if (head[next] === 0x0a) return at > 0 && head[at - 1] === 0x0d ? at - 1 : at;
  }
  return -1;
}

/** Compiled once per field name: the callers ask for a handful of fixed names. */
const fieldPatterns = new Map<string, RegExp>();

/** The first `name:` field of a header block from `rawHeaderBlock`, unfolded, or ''. */
export function headerFieldValue(block: string, name: string): string {
  let pattern = fieldPatterns.get(name);
  if (!pattern) {
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    pattern = new RegExp(`^${escaped}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, 'im');
    fieldPatterns.set(name, pattern);
  }
  const match = pattern.exec(block);
  return match ? match[1]!.replace(/\r?\n[ \t]+/g, ' ').trim() : '';
}
