import { describe, expect, it } from 'vitest';
import { decideBounceReason } from '../../../parsers/bounce-reason.js';

describe('decideBounceReason (the layers together)', () => {
  it('names the layer that decided', () => {
    expect(decideBounceReason({ status: '5.1.1', replyCode: '550', diagnostic: '550 5.1.1 User unknown', command: 'RCPT' })).toEqual({ reason: 'userunknown', decidedBy: 'status' });
    expect(decideBounceReason({ status: '5.7.606', replyCode: '550', diagnostic: '550 5.7.606 Access denied, banned sending IP [192.0.2.1]' })).toEqual({ reason: 'blocked', decidedBy: 'vendor' });
    expect(decideBounceReason({ status: '5.0.0', replyCode: '550', diagnostic: 'Mailbox is full', command: 'RCPT' })).toEqual({ reason: 'mailboxfull', decidedBy: 'phrase' });
    expect(decideBounceReason({ status: '', replyCode: '', diagnostic: 'post refused', preset: 'rejected' })).toEqual({ reason: 'rejected', decidedBy: 'family' });
    expect(decideBounceReason({ status: '5.7.1', replyCode: '554', diagnostic: 'nope' })).toEqual({ reason: 'securityerror', decidedBy: 'status' });
    expect(decideBounceReason({ status: '', replyCode: '', diagnostic: '' })).toEqual({ reason: 'undefined', decidedBy: 'default' });
  });

  it("reads Postfix's access-map refusal as a soft policy failure, and Microsoft's 5.4.1 in the same words as an unknown address", () => {
    const postfix = decideBounceReason({ status: '5.7.1', replyCode: '554', diagnostic: '554 5.7.1 <x@example.org>: Recipient address rejected: Access denied', command: 'RCPT' });
    expect(postfix.reason).not.toBe('userunknown');
    expect(decideBounceReason({ status: '5.4.1', replyCode: '550', diagnostic: '550 5.4.1 Recipient address rejected: Access denied. AS(201806281)', command: 'RCPT' })).toEqual({
      reason: 'userunknown',
      decidedBy: 'vendor',
    });
  });

  it('lets precise words about another cause beat an address status', () => {
    expect(decideBounceReason({ status: '5.1.1', replyCode: '550', diagnostic: '550 5.1.1 Mailbox full', command: 'RCPT' }).reason).toBe('mailboxfull');
    expect(decideBounceReason({ status: '5.1.1', replyCode: '550', diagnostic: '550 5.1.1 Message rejected as spam', command: 'RCPT' }).reason).toBe('spamdetected');
  });

  it('never reads a policy rejection as an unknown user', () => {
    const d = decideBounceReason({ status: '5.1.1', replyCode: '550', diagnostic: '550 5.1.1 Rejected by local policy', command: 'RCPT' });
    expect(d.reason).not.toBe('userunknown');
    expect(d.decidedBy).toBe('phrase');
  });

  it('keeps the specific status when the words agree or say less', () => {
    expect(decideBounceReason({ status: '5.2.2', replyCode: '552', diagnostic: '552 5.2.2 Over quota', command: 'RCPT' })).toEqual({ reason: 'mailboxfull', decidedBy: 'status' });
  });
});
