import { rawHeaderValue } from './raw-header.js';

/**
 * The client a relay says it received a message from, read from the topmost `Received` header
 * (the one the relay in front of mailroom added): `Received: from <helo> (<rdns> [<ip>]) by …`.
 * Null when there is none or it names no address.
 */
export function relayedClient(raw: Buffer): { ip: string; helo: string | null } | null {
  const from = /^from\s+(\S+)\s*(\([^)]*\))?/i.exec(rawHeaderValue(raw, 'received'));
  if (!from) return null;
  const ip = /\[(?:IPv6:)?([0-9a-f:.]{2,45})\]/i.exec(from[2] ?? '')?.[1] ?? /^\[(?:IPv6:)?([0-9a-f:.]{2,45})\]$/i.exec(from[1]!)?.[1] ?? null;
  if (!ip) return null;
  return { ip, helo: from[1]!.startsWith('[') ? null : from[1]! };
}
