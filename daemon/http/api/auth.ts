import { createHash, timingSafeEqual } from 'node:crypto';

/** What a token may do: `read` reads, `agent` also changes tickets, `admin` everything. */
export const API_ROLES = ['read', 'agent', 'admin'] as const;
export type ApiRole = (typeof API_ROLES)[number];

export interface ApiToken {
  /** Who: recorded as `by` in the events of the changes made with it. */
  name: string;
  role: ApiRole;
  token: string;
}

export interface ApiCaller {
  name: string;
  role: ApiRole;
}

/** Whether `role` may do what needs `needed` (each role includes the ones before it). */
export function roleAllows(role: ApiRole, needed: ApiRole): boolean {
  return API_ROLES.indexOf(role) >= API_ROLES.indexOf(needed);
}

/**
 * The caller a `Bearer …` header names, or null. Tokens are compared as SHA-256 digests, so every
 * comparison has the same length, and against every known token, so neither the time nor an early
 * exit tells which prefix or which token came close.
 */
export function createTokenCheck(tokens: readonly ApiToken[]): (header: string | undefined) => ApiCaller | null {
  const known = tokens.map((t) => ({ caller: { name: t.name, role: t.role }, digest: digest(t.token) }));
  return (header) => {
    if (!header?.startsWith('Bearer ')) return null;
    const given = digest(header.slice('Bearer '.length).trim());
    let found: ApiCaller | null = null;
    for (const candidate of known) {
      if (timingSafeEqual(given, candidate.digest)) found = candidate.caller;
    }
    return found;
  };
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
