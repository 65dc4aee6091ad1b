/**
 * The client a relay says it received a message from, read from the topmost `Received` header
 * (the one the relay in front of mailroom added): `Received: from <helo> (<rdns> [<ip>]) by …`.
 * Null when there is none or it names no address. Reads the header block's first 64 KB only.
 */
export function relayedClient(raw: Buffer): { ip: string; helo: string | null } | null {
  const head = raw.subarray(0, 64 * 1024).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const block = end === -1 ? head : head.slice(0, end);
  const match = /^received:[ \t]*((?:.*)(?:\r?\n[ \t].*)*)/im.exec(block);
  if (!match) return null;
  const received = match[1]!.replace(/\r?\n[ \t]+/g, ' ');
  const from = /^from\s+(\S+)\s*(\([^)]*\))?/i.exec(received.trim());
  if (!from) return null;
  const ip = /\[(?:IPv6:)?([0-9a-f:.]{2,45})\]/i.exec(from[2] ?? '')?.[1] ?? /^\[(?:IPv6:)?([0-9a-f:.]{2,45})\]$/i.exec(from[1]!)?.[1] ?? null;
  if (!ip) return null;
  return { ip, helo: from[1]!.startsWith('[') ? null : from[1]! };
}
