import { describe, it, expect } from 'vitest';
import { recipientTokenDelivery, signRecipientToken, signToken, verifyRecipientToken, verifyToken, type TokenKind } from '../../parsers/tokens.js';

const SECRET = 'test-secret-0123456789abcdef';

/** Replaces one character of a string with another from the same alphabet. */
function changeCharAt(text: string, index: number, alphabet: string): string {
  const current = text[index]!;
  const replacement = alphabet[(alphabet.indexOf(current) + 1) % alphabet.length]!;
  return `${text.slice(0, index)}${replacement}${text.slice(index + 1)}`;
}

describe('signToken and verifyToken', () => {
  it.each<[TokenKind, number | string]>([
    ['t', 1042],
    ['t', 1],
    ['d', 987654321],
    ['d', '42'],
    ['t', '999999999999999999'],
  ])('round-trips a %s token for id %s', (kind, id) => {
    const token = signToken(SECRET, kind, id);
    expect(verifyToken(SECRET, kind, token)).toBe(String(id));
  });

  it('writes `<kind><id>-<mac>` with a ten-character MAC', () => {
    expect(signToken(SECRET, 't', 1042)).toMatch(/^t1042-[a-z2-7]{10}$/);
  });

  it('writes lower-case letters, digits and a hyphen only', () => {
    for (const id of [0, 7, 1042, 123456789]) {
      for (const kind of ['t', 'd'] as const) expect(signToken(SECRET, kind, id)).toMatch(/^[a-z0-9-]+$/);
    }
  });

  it('signs the same id the same way every time', () => {
    expect(signToken(SECRET, 't', 1042)).toBe(signToken(SECRET, 't', 1042));
  });

  it('rejects a token whose id digit was changed', () => {
    const token = signToken(SECRET, 't', 1042);
    expect(verifyToken(SECRET, 't', token.replace('t1042-', 't1043-'))).toBeNull();
  });

  it.each([[6], [10], [15]])('rejects a token whose MAC was changed at index %i', (index) => {
    const token = signToken(SECRET, 't', 1042);
    expect(verifyToken(SECRET, 't', changeCharAt(token, index, 'abcdefghijklmnopqrstuvwxyz234567'))).toBeNull();
  });

  it('rejects a token of the other kind', () => {
    expect(verifyToken(SECRET, 'd', signToken(SECRET, 't', 1042))).toBeNull();
    expect(verifyToken(SECRET, 't', signToken(SECRET, 'd', 1042))).toBeNull();
  });

  it('rejects a MAC copied onto the other kind', () => {
    const mac = signToken(SECRET, 't', 1042).split('-')[1]!;
    expect(verifyToken(SECRET, 'd', `d1042-${mac}`)).toBeNull();
  });

  it('rejects a token signed with another secret', () => {
    expect(verifyToken('another-secret', 't', signToken(SECRET, 't', 1042))).toBeNull();
  });

  it('accepts a token an MTA upper-cased', () => {
    const token = signToken(SECRET, 't', 1042);
    expect(verifyToken(SECRET, 't', token.toUpperCase())).toBe('1042');
  });

  it.each([
    ['an empty string', ''],
    ['no MAC', 't1042'],
    ['a short MAC', 't1042-abc'],
    ['a MAC with characters outside base32', 't1042-abcdefgh01'],
    ['a non-numeric id', 'tabc-abcdefghij'],
    ['an id of 19 digits', `t${'1'.repeat(19)}-abcdefghij`],
    ['surrounding white space', ' t1042-abcdefghij '],
    ['an unknown kind', 'x1042-abcdefghij'],
  ])('rejects %s without throwing', (_case, token) => {
    expect(verifyToken(SECRET, 't', token)).toBeNull();
  });

  it('fits a 64-character local part after `bounces+` even for the longest id', () => {
    const longest = signToken(SECRET, 'd', '9'.repeat(18));
    expect(verifyToken(SECRET, 'd', longest)).toBe('9'.repeat(18));
    // RFC 5321 §4.5.3.1.1: a local part is at most 64 octets.
    expect(`bounces+${longest}`.length).toBeLessThanOrEqual(64);
  });
});

describe('recipient tokens (VERP per recipient)', () => {
  it('verifies for the delivery and address it was signed for, and for no other', () => {
    const token = signRecipientToken(SECRET, 7042, 'Ana@Client.example');
    expect(recipientTokenDelivery(token)).toBe(7042);
    expect(verifyRecipientToken(SECRET, token, 7042, 'ana@client.example')).toBe(true);
    expect(verifyRecipientToken(SECRET, token.toUpperCase(), 7042, 'ana@client.example')).toBe(true);
    expect(verifyRecipientToken(SECRET, token, 7042, 'sam@client.example')).toBe(false);
    expect(verifyRecipientToken(SECRET, token, 7043, 'ana@client.example')).toBe(false);
    expect(verifyRecipientToken('another-secret', token, 7042, 'ana@client.example')).toBe(false);
  });

  it('is not any token a Message-ID we send carries', () => {
    const inMessageId = signToken(SECRET, 'd', 7042);
    expect(recipientTokenDelivery(inMessageId)).toBeNull();
    expect(verifyRecipientToken(SECRET, inMessageId, 7042, 'ana@client.example')).toBe(false);
  });

  it('fits a 64-character local part after `bounces+` even for the longest id', () => {
    expect(`bounces+${signRecipientToken(SECRET, Number('9'.repeat(15)), 'a@b.example')}`.length).toBeLessThanOrEqual(64);
  });
});
