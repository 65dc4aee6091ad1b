import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundMessages } from '../../db/schema.js';
import { rawMessage, startTestApp, type TestApp } from '../helpers/test-app.js';

/*
 * Structure no parser should be handed is refused while it arrives, with a reason the sender's
 * bounce will carry, and nothing of it is stored.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { MAILROOM_MAX_MESSAGE_BYTES: String(30 * 1024 * 1024) } });
});
afterAll(async () => {
  await t?.close();
});

const spoolCount = async () => (await t.db.select({ id: inboundMessages.id }).from(inboundMessages)).length;

function nested(depth: number): string {
  let body = 'Content-Type: text/plain\r\n\r\nhola\r\n';
  for (let i = depth; i >= 1; i -= 1) body = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${body}--b${i}--\r\n`;
  return `From: eve@attacker.example\r\nTo: soporte@example.com\r\nSubject: profundo\r\nMIME-Version: 1.0\r\n${body}`;
}

function manyParts(count: number): string {
  const parts = Array.from({ length: count }, (_, i) => `--sep\r\nContent-Type: text/plain\r\n\r\n${i}\r\n`).join('');
  return `From: eve@attacker.example\r\nTo: soporte@example.com\r\nSubject: partes\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="sep"\r\n\r\n${parts}--sep--\r\n`;
}

describe('message structure over the limits', () => {
  it.each([
    ['a 10 MB header line', () => rawMessage({ from: 'eve@attacker.example', subject: 'x', headers: { 'X-Long': 'a'.repeat(10 * 1024 * 1024) } }), 'a header line is longer than 9980 bytes'],
    ['10,000-deep nesting', () => nested(10_000), 'MIME parts are nested more than 32 deep'],
    ['50,000 parts', () => manyParts(50_000), 'the message has more than 1000 MIME parts'],
  ])('refuses %s with 554 5.6.0 and its reason, storing nothing', async (_case, build, reason) => {
    const before = await spoolCount();
    const result = await t.send({ from: 'eve@attacker.example', to: ['soporte@example.com'] }, build());
    expect(result.response).toBe(`554 5.6.0 Message refused: ${reason}`);
    expect(await spoolCount()).toBe(before);
  });

  it('still takes a message with a few nested parts and long body lines', async () => {
    const result = await t.send({ from: 'ana@cliente.es', to: ['soporte@example.com'] }, nested(5).replace('hola', 'h'.repeat(100_000)));
    expect(result.code, result.response).toBe(250);
  });
});
