import { describe, it, expect } from 'vitest';
import {
  findSubjectTicketNumber,
  formatSubjectToken,
  normalizeMessageId,
  parseMessageIdList,
} from '../../parsers/threading.js';

describe('normalizeMessageId', () => {
  it.each<[string, string | null | undefined, string | null]>([
    ['a bracketed id', '<abc.123@mail.example>', 'abc.123@mail.example'],
    ['an id with surrounding white space', '  <abc@mail.example>\r\n', 'abc@mail.example'],
    ['a bare id', 'abc@mail.example', 'abc@mail.example'],
    ['doubled brackets', '<<abc@mail.example>>', 'abc@mail.example'],
    ['white space inside the brackets', '< abc@mail.example >', 'abc@mail.example'],
    ['empty brackets', '<>', null],
    ['an empty string', '', null],
    ['only white space', '   ', null],
    ['null', null, null],
    ['undefined', undefined, null],
    ['an id longer than a header line may be (RFC 5322 §2.1.1)', `<${'a'.repeat(990)}@example.com>`, null],
  ])('normalizes %s', (_case, value, expected) => {
    expect(normalizeMessageId(value)).toBe(expected);
  });

  it('keeps an id of exactly 998 characters', () => {
    const id = `${'a'.repeat(986)}@example.com`;
    expect(id).toHaveLength(998);
    expect(normalizeMessageId(`<${id}>`)).toBe(id);
  });
});

describe('parseMessageIdList', () => {
  it.each<[string, string | string[] | null | undefined, string[]]>([
    ['bracketed ids separated by spaces', '<a@x.example> <b@y.example>', ['a@x.example', 'b@y.example']],
    ['bracketed ids with no separator', '<a@x.example><b@y.example>', ['a@x.example', 'b@y.example']],
    ['a folded CRLF header', '<a@x.example>\r\n <b@y.example>\r\n\t<c@z.example>', ['a@x.example', 'b@y.example', 'c@z.example']],
    ['a folded LF header', '<a@x.example>\n <b@y.example>', ['a@x.example', 'b@y.example']],
    ['repeated ids, keeping the first place', '<a@x.example> <b@y.example> <a@x.example>', ['a@x.example', 'b@y.example']],
    ['bare ids separated by spaces', 'a@x.example b@y.example', ['a@x.example', 'b@y.example']],
    ['bare ids separated by commas', 'a@x.example, b@y.example,c@z.example', ['a@x.example', 'b@y.example', 'c@z.example']],
    ['repeated bare ids', 'a@x.example a@x.example', ['a@x.example']],
    ['bare words that are not ids', 'your message of yesterday', []],
    [
      'an old-style In-Reply-To with a phrase around the id',
      'Your message of "Mon, 20 Oct 2014 14:33:24 +0200" <a@x.example>',
      ['a@x.example'],
    ],
    ['a bracketed id broken by white space, keeping the half with an @', '<invalid. something@bar.example>', ['something@bar.example']],
    ['several header values', ['<a@x.example>', '<b@y.example> <a@x.example>'], ['a@x.example', 'b@y.example']],
    ['an empty string', '', []],
    ['null', null, []],
    ['undefined', undefined, []],
  ])('parses %s', (_case, value, expected) => {
    expect(parseMessageIdList(value)).toEqual(expected);
  });

  it('ignores bare ids once bracketed ids are present', () => {
    expect(parseMessageIdList('<a@x.example> b@y.example')).toEqual(['a@x.example']);
  });

  it('reads a References header with hundreds of ids in order', () => {
    const ids = Array.from({ length: 500 }, (_, i) => `m${i}@x.example`);
    expect(parseMessageIdList(ids.map((id) => `<${id}>`).join('\r\n '))).toEqual(ids);
  });
});

describe('findSubjectTicketNumber', () => {
  it.each<[string, string | null | undefined, number | null]>([
    ['a reply to a ticket', 'Re: [#1042] help', 1042],
    ['a forwarded reply', 'Fwd: RE: AW: [#7] printer', 7],
    ['the token at the end', 'still broken [#1042]', 1042],
    ['several tokens, taking the first', 'Re: [#1042] merged into [#2001]', 1042],
    ['no token', 'help', null],
    ['a token without the hash', 'Re: [1042] help', null],
    ['a token with a space', 'Re: [# 1042] help', null],
    ['a token with letters', 'Re: [#abc] help', null],
    ['a number longer than 12 digits', 'Re: [#1234567890123] help', null],
    ['a number of 12 digits', 'Re: [#123456789012] help', 123456789012],
    ['an empty subject', '', null],
    ['null', null, null],
    ['undefined', undefined, null],
  ])('reads %s', (_case, subject, expected) => {
    expect(findSubjectTicketNumber(subject)).toBe(expected);
  });

  it('finds a token at the start of a huge subject', () => {
    expect(findSubjectTicketNumber(`Re: [#1042] ${'x'.repeat(1_000_000)}`)).toBe(1042);
  });

  it('looks only at the first 2000 characters of a huge subject', () => {
    expect(findSubjectTicketNumber(`${'x'.repeat(1_000_000)} [#1042]`)).toBeNull();
    expect(findSubjectTicketNumber(`${'[#'.repeat(500_000)}`)).toBeNull();
  });

  it('reads back the token formatSubjectToken writes', () => {
    expect(formatSubjectToken(1042)).toBe('[#1042]');
    expect(findSubjectTicketNumber(`Re: ${formatSubjectToken(98765)} help`)).toBe(98765);
  });
});
