import { describe, expect, it } from 'vitest';
import { isPolicyRejection, strongPhraseReason, weakPhraseReason } from '../../../parsers/bounce/reason-phrase.js';

const strong = (text: string, command = '', temporary = false) => strongPhraseReason({ text: text.toLowerCase(), command, temporary });

describe('strongPhraseReason (layer 3)', () => {
  it.each([
    ['Mailbox is full', '', 'mailboxfull'],
    ['Recipient address rejected: User unknown in local recipient table', 'RCPT', 'userunknown'],
    ['User unknown', 'DATA', 'filtered'],
    ['Client host rejected: blocked using zen.spamhaus.org', 'RCPT', 'blocked'],
    ['Relay access denied', 'RCPT', 'norelaying'],
    ['Sender address rejected: Domain not found', 'MAIL', 'rejected'],
    ['Host or domain name not found. Name service error', '', 'hostunknown'],
    ['Message content rejected as spam', 'DATA', 'spamdetected'],
    ['The recipient name is not recognized', '', 'userunknown'], // Exchange 2003's own sentence, any command
    ['User jdoe (jdoe@example.org) not listed in Domino Directory', '', 'userunknown'], // Domino router's own sentence
    ['550 Requested action not taken: Invalid final delivery userid', '', 'userunknown'], // IMail's own sentence
    ['Blocked by SpamAssassin', 'DATA', 'spamdetected'], // spamass-milter's reply
    // Exim's own messages for a domain it cannot route to, and Exchange Online's 5.4.310: words
    // like "non-existent" in them are about the domain, not an unknown user.
    ['all relevant MX records point to non-existent hosts', '', 'hostunknown'],
    ['Unrouteable address', '', 'hostunknown'],
    ['all host address lookups failed permanently', '', 'hostunknown'],
    ['DNS domain example.org does not exist [Message=InfoDomainNonexistent]', '', 'hostunknown'],
    // qmail-smtpd's own refusals.
    ["sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)", 'RCPT', 'norelaying'],
    ['sorry, your envelope sender is in my badmailfrom list (#5.7.1)', 'MAIL', 'rejected'],
  ])('"%s" (%s) is %s', (text, command, reason) => {
    expect(strong(text, command)).toBe(reason);
  });

  it('never reads a policy or spam rejection as an unknown user', () => {
    expect(strong('Recipient rejected: no such user; message rejected by policy', 'RCPT')).not.toBe('userunknown');
    expect(strong('Invalid recipient, message looks like spam', 'RCPT')).toBe('spamdetected');
  });

  it('reads no unknown user into words that only resemble it (a soft refusal read as hard stops mail to a customer)', () => {
    expect(strong('Sender IP not listed in our list of allowed senders', 'RCPT')).not.toBe('userunknown');
    expect(strong("Your server doesn't have a PTR record", 'RCPT')).not.toBe('userunknown');
    expect(strong("This user doesn't have a example.org account", 'RCPT')).toBe('userunknown');
    expect(strong('Invalid domain name in HELO', 'HELO')).not.toBe('hostunknown');
    expect(strong('Service no longer available')).not.toBe('hasmoved');
    expect(strong('This address is no longer available')).toBe('hasmoved');
  });

  it('reads a refusal of the sending host for spamming as blocked, not as a spam verdict on the message', () => {
    expect(strong('Client host blocked for spamming issues', 'RCPT')).toBe('blocked');
    expect(strong('Message rejected as spam', 'DATA')).toBe('spamdetected');
  });

  it('keeps a temporary DNS failure out of hostunknown', () => {
    expect(strong('Host or domain name not found', '', true)).toBeNull();
  });

  it('says nothing for words it does not know', () => {
    expect(strong('Something odd happened')).toBeNull();
  });
});

describe('weakPhraseReason (layer 3, hints)', () => {
  it('reads a refused TCP connection as a network error, and an SMTP reply refusing the connection as a block', () => {
    expect(strong('connect to mx.example.org[192.0.2.1]:25: Connection refused')).toBeNull();
    expect(weakPhraseReason('connect to mx.example.org[192.0.2.1]:25: connection refused')).toBe('networkerror');
    expect(weakPhraseReason('deferred: connection refused by mx.example.org.')).toBe('networkerror');
    expect(strong('554 p3plibsmtp01 bizsmtp IB401. Connection refused. 192.0.2.1 is listed on the Exploit Block List')).toBe('blocked');
  });

  it.each([
    ['Connection timed out', 'expired'],
    ['Internal server error', 'systemerror'],
    ['null MX', 'notaccept'],
    ['Too many hops', 'networkerror'],
    ['mail forwarding loop for x@example.org', 'networkerror'],
    ['all hosts have been failing for a long time (and retry time not reached)', 'expired'],
    ['Temporary local problem - please try later', 'systemerror'],
  ])('"%s" hints %s', (text, reason) => {
    expect(weakPhraseReason(text.toLowerCase())).toBe(reason);
  });
});

describe('isPolicyRejection', () => {
  it('spots spam, reputation, DNSBL and policy words', () => {
    expect(isPolicyRejection('rejected due to local policy')).toBe(true);
    expect(isPolicyRejection('blocked using bl.spamcop.net')).toBe(true);
    expect(isPolicyRejection('poor reputation')).toBe(true);
    expect(isPolicyRejection('user unknown')).toBe(false);
  });
});
