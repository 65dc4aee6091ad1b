import { createHmac, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';

export const SESSION_COOKIE = 'mailroom_session';

/** Who a token belongs to; `authenticate` answers null for a token it does not know. */
export interface Principal {
  name: string;
  role: 'read' | 'agent' | 'admin';
}

export function readCookie(req: http.IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at !== -1 && part.slice(0, at).trim() === name) return decodeURIComponent(part.slice(at + 1).trim());
  }
  return null;
}

/**
 * The token, kept where scripts cannot read it (HttpOnly) and only sent by pages of this site
 * (SameSite=Strict: a form on another site posting here carries no cookie).
 */
export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}; Max-Age=43200`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}

/** A form's anti-forgery value, derived from the session: a second defence after SameSite. */
export function csrfToken(secret: string, sessionToken: string): string {
  return createHmac('sha256', secret).update(`csrf:${sessionToken}`).digest('base64url');
}

export function validCsrf(secret: string, sessionToken: string, given: string | undefined): boolean {
  const expected = Buffer.from(csrfToken(secret, sessionToken));
  const actual = Buffer.from(given ?? '');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
