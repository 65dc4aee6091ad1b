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
  ticketSubject: 'No me llegan, los envíos',
  requester: 'ana@client.example',
  state: 'failed',
  ...overrides,
});

describe('the failures CSV', () => {
  it('starts with the header, with CRLF line ends, and a byte-order mark only when asked', () => {
    const csv = failuresCsv([row({})]);
    expect(csv.startsWith('at,ticket,deliveryId,messageId,recipient,kind,replyCode,enhancedStatus,reason,hardOrSoft,diagnostic,remoteMta,subject,requester,state\r\n')).toBe(true);
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv.split('\r\n')[1]).toBe(
      '2026-11-21T10:00:00.000Z,1000,7,t1000-x.d7-y@example.com,ana@client.example,acknowledgement,550,5.1.1,userunknown,hard,plain,mx.client.example,"No me llegan, los envíos",ana@client.example,failed',
    );
    expect(failuresCsv([row({})], { bom: true }).startsWith('\uFEFFat,')).toBe(true);
  });

  it('marks a recipient that expired in the queue as a relay failure, not a bounce', () => {
    const line = failuresCsv([row({ state: 'expired', hard: false, reason: 'relay_unreachable', replyCode: null, enhancedStatus: null })]).split('\r\n')[1]!;
    expect(line).toContain(',relay_unreachable,relay,');
    expect(line.endsWith(',expired')).toBe(true);
  });

  it.each([
    ['a comma', 'rejected, try later', '"rejected, try later"'],
    ['a quote', 'said "no"', '"said ""no"""'],
    ['a line break', 'line one\r\nline two', '"line one\r\nline two"'],
    ['a formula', '=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['a leading minus', '-1 points', "'-1 points"],
    ['accents', 'buzón lleno', 'buzón lleno'],
  ])('quotes a diagnostic with %s so a spreadsheet reads one cell', (_name, diagnostic, expected) => {
    const line = failuresCsv([row({ diagnostic })]).split('\r\n').slice(1).join('\r\n');
    expect(line).toContain(`,hard,${expected},mx.client.example`);
  });

  it('writes empty cells for missing values and soft for soft bounces', () => {
    const line = failuresCsv([row({ replyCode: null, enhancedStatus: null, hard: false, remoteMta: null })]).split('\r\n')[1];
    expect(line).toMatch(/,acknowledgement,,,userunknown,soft,plain,,"No me llegan, los envíos",ana@client.example,failed$/);
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
