import { describe, expect, it } from 'vitest';
import { reasonOfVendorCode } from '../../../parsers/bounce/reason-vendor.js';

const vendor = (status: string, replyCode: string, text: string) => reasonOfVendorCode({ status, replyCode, text: text.toLowerCase() });

describe('reasonOfVendorCode (layer 2)', () => {
  it('reads Microsoft 5.7.606 to 5.7.649 as a banned sending IP', () => {
    expect(vendor('5.7.606', '550', '550 5.7.606 Access denied, banned sending IP [192.0.2.1]')).toBe('blocked');
    expect(vendor('', '550', '550 5.7.649 Access denied, banned sending IP [192.0.2.1]')).toBe('blocked');
    expect(vendor('5.7.650', '550', '550 5.7.650 something else')).toBeNull();
  });

  it("reads Exchange Online's RecipientNotFound and Directory-Based Edge Blocking as an unknown user", () => {
    expect(vendor('5.1.10', '550', '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup')).toBe('userunknown');
    expect(vendor('5.4.1', '550', '550 5.4.1 Recipient address rejected: Access denied. AS(201806281)')).toBe('userunknown');
    expect(vendor('', '550', '550 Recipient address rejected: Access denied. AS(201806281)')).toBe('userunknown');
  });

  it("leaves Postfix's access-map refusal in the same words to the other layers (a policy, not an unknown address)", () => {
    expect(vendor('5.7.1', '554', '554 5.7.1 <x@example.org>: Recipient address rejected: Access denied')).toBeNull();
  });

  it('reads Microsoft 5.7.509 as DMARC and 5.7.708 as reputation', () => {
    expect(vendor('5.7.509', '550', '550 5.7.509 Access denied, sending domain example.com does not pass DMARC verification')).toBe('authfailure');
    expect(vendor('5.7.708', '550', '550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP')).toBe('badreputation');
  });

  it("reads Google's documented 5.7.1 and 5.2.1 replies", () => {
    expect(vendor('5.7.1', '550', '550-5.7.1 [192.0.2.1] Our system has detected that this message is likely unsolicited mail. gsmtp')).toBe('spamdetected');
    expect(vendor('5.7.1', '550', '550-5.7.1 [192.0.2.1] The IP you are using has a very low reputation. gsmtp')).toBe('badreputation');
    expect(vendor('5.2.1', '550', '550-5.2.1 The email account that you tried to reach is disabled. gsmtp')).toBe('suspend');
  });

  it("reads Yahoo's TSS04 and TSS09 codes", () => {
    expect(vendor('4.7.0', '421', '421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints')).toBe('badreputation');
    expect(vendor('5.7.9', '554', '554 5.7.9 [TSS09] All messages from 192.0.2.1 will be permanently deferred')).toBe('blocked');
  });

  it("reads Cox's block codes (CXBL, CDRBL, IPBLnnnn) as a blocked sending IP", () => {
    expect(vendor('', '554', '554 cdptpa-omtalb-2 cox.net IPBL1000 192.0.2.1 blocked. Refer to: http://postmaster.cox.net/confluence/display/postmaster/Error+Codes')).toBe('blocked');
    expect(vendor('', '554', '554 fed1rmimpi-04 cox.net CXBL 192.0.2.1 rejected')).toBe('blocked');
    expect(vendor('', '421', '421 cox.net CDRBL 192.0.2.1 temporarily blocked')).toBe('blocked');
    expect(vendor('', '550', '550 IPBL2000 is no code of theirs')).toBeNull();
  });

  it("reads PowerMTA's own bounce category, after a mailbox provider's code in the reply", () => {
    const category = (mtaCategory: string, text = '550 requested action not taken') => reasonOfVendorCode({ status: '5.0.0', replyCode: '550', text, mtaCategory });
    expect(category('powermta:bad-mailbox')).toBe('userunknown');
    expect(category('powermta:inactive-mailbox')).toBe('suspend');
    expect(category('powermta:quota-issues')).toBe('mailboxfull');
    expect(category('powermta:policy-related')).toBe('policyviolation');
    expect(category('powermta:other')).toBeNull();
    expect(category('powermta:bad-mailbox', '554 5.7.9 [tss09] all messages from 192.0.2.1 will be permanently deferred')).toBe('blocked');
  });

  it("reads Exchange Online's 5.4.312 as a DNS failure and 5.4.316 as expiry", () => {
    expect(vendor('5.4.312', '550', '550 5.4.312 Message expired, DNS query failed')).toBe('networkerror');
    expect(vendor('5.4.316', '550', '550 5.4.316 Message expired, connection refused')).toBe('expired');
  });

  it("reads Google's 552 5.7.0 security-issue block as a policy violation", () => {
    expect(vendor('5.7.0', '552', '552-5.7.0 This message was blocked because its content presents a potential security issue. gsmtp')).toBe('policyviolation');
  });

  it("reads Yahoo's 'dd This user doesn't have a ... account' as an unknown user", () => {
    expect(vendor('', '554', "554 delivery error: dd This user doesn't have a yahoo.com account (x@yahoo.com) [0]")).toBe('userunknown');
  });

  it('says nothing about an undocumented reply', () => {
    expect(vendor('5.1.1', '550', '550 5.1.1 <a@example.org>: Recipient address rejected: User unknown')).toBeNull();
  });
});
