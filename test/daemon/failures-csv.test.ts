import { describe, expect, it } from 'vitest';
import { failuresCsv, parseDateFilter, type FailureRow } from '../../daemon/reports/failures.js';

const row = (overrides: Partial<FailureRow>): FailureRow => ({
  at: new Date('2026-11-21T10:00:00Z'),
  ticketNumber: 1000,
  deliveryId: 7,
  messageId: 't1000-x.d7-y@example.com',
  recipient: 'ana@client.example',
  kind: 'acknowledgement',
  replyCode: 550,
  enhancedStatus: '5.1.1',
  reason: 'userunknown',
  hard: true,
  diagnostic: 'plain',
  remoteMta: 'mx.client.example',
  ...overrides,
});

describe('the failures CSV', () => {
  it('starts with a byte-order mark and the header, with CRLF line ends', () => {
    const csv = failuresCsv([row({})]);
    expect(csv.startsWith('\uFEFFat,ticket,deliveryId,messageId,recipient,kind,replyCode,enhancedStatus,reason,hardOrSoft,diagnostic,remoteMta\r\n')).toBe(true);
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv.split('\r\n')[1]).toBe('2026-11-21T10:00:00.000Z,1000,7,t1000-x.d7-y@example.com,ana@client.example,acknowledgement,550,5.1.1,userunknown,hard,plain,mx.client.example');
  });

  it.each([
    ['a comma', 'rejected, try later', '"rejected, try later"'],
    ['a quote', 'said "no"', '"said ""no"""'],
    ['a line break', 'line one\r\nline two', '"line one\r\nline two"'],
    ['a formula', '=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['a leading minus', '-1 points', "'-1 points"],
    ['accents', 'buzón lleno', 'buzón lleno'],
  ])('quotes a diagnostic with %s so a spreadsheet reads one cell', (_name, diagnostic, expected) => {
    const line = failuresCsv([row({ diagnostic })]).slice(1).split('\r\n').slice(1).join('\r\n');
    expect(line).toContain(`,hard,${expected},mx.client.example`);
  });

  it('writes empty cells for missing values and soft for soft bounces', () => {
    const line = failuresCsv([row({ replyCode: null, enhancedStatus: null, hard: false, remoteMta: null })]).split('\r\n')[1];
    expect(line).toMatch(/,acknowledgement,,,userunknown,soft,plain,$/);
  });
});

describe('date filters', () => {
  it.each([
    ['2026-11-21', '2026-11-21T00:00:00.000Z'],
    ['2026-11-21T10:30:00Z', '2026-11-21T10:30:00.000Z'],
    ['2026-11-21T10:30:00+02:00', '2026-11-21T08:30:00.000Z'],
  ])('reads %s', (text, iso) => {
    expect((parseDateFilter(text) as Date).toISOString()).toBe(iso);
  });
  it.each(['yesterday', '21/11/2026', '2026-13-45'])('refuses %s', (text) => {
    expect(parseDateFilter(text)).toBe('invalid');
  });
});
