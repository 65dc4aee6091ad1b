import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed tokens that go into addresses and Message-IDs. They are short, lower-case (some MTAs
 * fold local parts to lower case) and carry a truncated HMAC so nobody can guess or forge a
 * token that names somebody else's ticket or delivery.
 */
export type TokenKind = 't' | 'd' | 'b';

const MAC_CHARS = 10; // 50 bits of base32: forging needs ~2^50 guesses, each one an SMTP transaction
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Buffer, length: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= length) break;
  }
  return out;
}

function mac(secret: string, kind: TokenKind, id: string): string {
  return base32(createHmac('sha256', secret).update(`${kind}:${id}`).digest(), MAC_CHARS);
}

/** Builds `<kind><id>-<mac>`, e.g. `t1042-k3m9x2ab7q`. */
export function signToken(secret: string, kind: TokenKind, id: number | string): string {
  const text = String(id);
  return `${kind}${text}-${mac(secret, kind, text)}`;
}

/** Returns the id a token names, or null when it is malformed or its MAC does not verify. */
export function verifyToken(secret: string, kind: TokenKind, token: string): string | null {
  const match = /^([td])(\d{1,18})-([a-z2-7]{10})$/.exec(token.toLowerCase());
  if (!match || match[1] !== kind) return null;
  const id = match[2]!;
  const expected = Buffer.from(mac(secret, kind, id));
  const given = Buffer.from(match[3]!);
  return timingSafeEqual(expected, given) ? id : null;
}

/**
 * The Message-ID of a mail mailroom sends: `<ticket token>.<delivery token>@<domain>`, so a
 * reply or a bounce that quotes it names its ticket and delivery in a way nobody can forge.
 */
export function formatOwnMessageId(secret: string, ticketNumber: number, deliveryId: number, domain: string): string {
  return `${signToken(secret, 't', ticketNumber)}.${signToken(secret, 'd', deliveryId)}@${domain}`;
}

/** Reads a Message-ID (without brackets) that mailroom generated; null for any other or a forgery. */
export function parseOwnMessageId(secret: string, messageId: string): { ticketNumber: number; deliveryId: number } | null {
  const match = /^(t\d{1,18}-[a-z2-7]{10})\.(d\d{1,18}-[a-z2-7]{10})@/i.exec(messageId);
  if (!match) return null;
  const ticket = verifyToken(secret, 't', match[1]!);
  const delivery = verifyToken(secret, 'd', match[2]!);
  return ticket !== null && delivery !== null ? { ticketNumber: Number(ticket), deliveryId: Number(delivery) } : null;
}

/**
 * The token of one recipient of one delivery, for the envelope sender that recipient's copy is
 * sent with (VERP): `b<delivery id>-<mac>`, the MAC over the delivery and the address. A report
 * that comes back to it can be about that recipient only: someone else on the same mail holds a
 * different token, and no Message-ID we send contains one.
 */
export function signRecipientToken(secret: string, deliveryId: number, address: string): string {
  return `b${deliveryId}-${mac(secret, 'b', `${deliveryId}:${address.toLowerCase()}`)}`;
}

/** The delivery a recipient token claims to be about; whether it is genuine needs the address. */
export function recipientTokenDelivery(token: string): number | null {
  const match = /^b(\d{1,18})-[a-z2-7]{10}$/.exec(token.toLowerCase());
  return match ? Number(match[1]) : null;
}

/** Whether `token` was signed for this delivery and this recipient. */
export function verifyRecipientToken(secret: string, token: string, deliveryId: number, address: string): boolean {
  const expected = Buffer.from(signRecipientToken(secret, deliveryId, address));
  const given = Buffer.from(token.toLowerCase());
  return expected.length === given.length && timingSafeEqual(expected, given);
}
