import { describe, expect, it } from 'vitest';
import { reasonOfSpecificStatus } from '../../../parsers/bounce/reason-status.js';

describe('reasonOfSpecificStatus (layer 1)', () => {
  it.each([
    ['5.1.1', 'userunknown'], // RFC 3463 §3.2 bad destination mailbox address
    ['5.1.2', 'hostunknown'], // bad destination system address
    ['5.1.6', 'hasmoved'], // mailbox has moved
    ['5.1.10', 'notaccept'], // RFC 7505 null MX
    ['5.2.2', 'mailboxfull'], // RFC 3463 §3.3 mailbox full
    ['4.2.2', 'mailboxfull'],
    ['5.3.4', 'mesgtoobig'], // RFC 3463 §3.4 message too big for system
    ['5.4.4', 'hostunknown'], // unable to route, permanent
    ['4.4.4', 'networkerror'], // unable to route, may resolve later
    ['5.7.13', 'suspend'], // user account disabled
    ['5.7.26', 'authfailure'], // RFC 7372 multiple authentication checks failed
    ['5.7.25', 'requireptr'], // RFC 7372 reverse DNS validation failed
    ['5.7.30', 'failedstarttls'], // RFC 8689 REQUIRETLS
  ])('%s names %s', (status, reason) => {
    expect(reasonOfSpecificStatus(status)).toBe(reason);
  });

  it.each(['5.0.0', '4.0.0', '5.7.1', '5.5.0', '5.1.351', '4.4.7', '', 'x.1.1', '5.0.911'])('leaves the generic or absent code %j to later layers', (status) => {
    expect(reasonOfSpecificStatus(status)).toBeNull();
  });

  it('reads an address status answering MAIL FROM as the sender being rejected', () => {
    expect(reasonOfSpecificStatus('5.1.1', 'MAIL')).toBe('rejected');
    expect(reasonOfSpecificStatus('5.1.8')).toBe('rejected'); // bad sender's system address
  });
});
