import { describe, expect, it } from 'vitest';
import { parseContentType } from '../../../parsers/bounce/mime.js';
import { joinMultilineReply } from '../../../parsers/bounce/extract.js';

describe('parseContentType', () => {
  it('reads type and parameters (RFC 2045 §5.1)', () => {
    const { type, params } = parseContentType('text/plain; charset="iso-2022-jp"');
    expect(type).toBe('text/plain');
    expect(params.get('charset')).toBe('iso-2022-jp');
  });

  it('ends the type at whitespace when the ";" before a folded parameter is missing', () => {
    const { type, params } = parseContentType('text/plain\n   charset="iso-2022-jp"');
    expect(type).toBe('text/plain');
    expect(params.get('charset')).toBe('iso-2022-jp');
  });
});

describe('joinMultilineReply', () => {
  it("drops Sendmail's transcript markers and the repeated reply codes", () => {
    expect(joinMultilineReply('<<< 552-5.7.0 This message was blocked because its content presents a potential <<< 552-5.7.0 security issue.')).toBe(
      '552-5.7.0 This message was blocked because its content presents a potential security issue.',
    );
  });
});
