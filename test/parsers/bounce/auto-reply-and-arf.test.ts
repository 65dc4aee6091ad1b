import { describe, expect, it } from 'vitest';
import { parseBounce } from '../../../parsers/bounce.js';
import { eml } from '../../helpers/dsn.js';

describe('parseBounce: auto-replies without Auto-Submitted', () => {
  it('reads a null-sender reply from a person, marked Precedence: bulk, as an auto-reply (RFC 3834 §3.1.8)', async () => {
    const report = await parseBounce(
      eml(['Return-Path: <>', 'From: Ann Example <ann@example.org>', 'To: <support@mailroom.example.com>', 'Subject: Thank you for your e-mail', 'Precedence: bulk', '', 'I will reply as soon as I can.', '', 'Ann']),
    );
    expect(report).toMatchObject({ kind: 'auto_reply', source: 'rfc3834' });
    expect(report!.recipients[0]).toMatchObject({ recipient: 'ann@example.org', reason: 'vacation', decidedBy: 'report', hard: false });
  });

  it('reads a bracketed auto-reply subject ("[Auto-Reply] ...")', async () => {
    const report = await parseBounce(eml(['From: <bob@example.org>', 'To: <support@mailroom.example.com>', 'Subject: [Auto-Reply] Re: ticket 12', '', 'Away until Monday.']));
    expect(report?.kind).toBe('auto_reply');
  });

  it.each(['Automatische Antwort: Ticket', 'Out of Office AutoReply: Ticket', 'Jane Doe is out of the office.', 'Risposta automatica: Ticket'])('reads the subject %j as an auto-reply', async (subject) => {
    const report = await parseBounce(eml(['From: <jane@example.org>', 'To: <support@mailroom.example.com>', `Subject: ${subject}`, '', 'Back on Monday.']));
    expect(report?.kind).toBe('auto_reply');
  });

  it('still reads a null-sender notice from MAILER-DAEMON with a reply code as a bounce', async () => {
    const report = await parseBounce(
      eml(['Return-Path: <>', 'From: MAILER-DAEMON@mx.example.net', 'To: <support@mailroom.example.com>', 'Subject: Thank you', 'Precedence: bulk', '', '<gone@example.org>: 550 5.1.1 User unknown']),
    );
    expect(report?.kind).toBe('bounce');
  });
});

describe('parseBounce: feedback reports', () => {
  it("takes the complained-about address from early ARF drafts' Removal-Recipient", async () => {
    const report = await parseBounce(
      eml([
        'From: <abuse@isp.example>',
        'To: <abuse@mailroom.example.com>',
        'Subject: Abuse report',
        'MIME-Version: 1.0',
        'Content-Type: multipart/report; report-type=feedback-report; boundary="B"',
        '',
        '--B',
        'Content-Type: text/plain',
        '',
        'A complaint.',
        '--B',
        'Content-Type: message/feedback-report',
        '',
        'Feedback-Type: abuse',
        'Version: 0.1',
        'Removal-Recipient: user@example.com',
        '--B--',
      ]),
    );
    expect(report?.kind).toBe('complaint');
    expect(report!.recipients[0]).toMatchObject({ recipient: 'user@example.com', reason: 'feedback', decidedBy: 'report' });
  });

  it("takes the complaining address from a Microsoft JMRP report's X-HmXmrOriginalRecipient", async () => {
    const report = await parseBounce(
      eml([
        'From: <staff@hotmail.com>',
        'To: <abuse@mailroom.example.com>',
        'Subject: complaint about message from 192.0.2.1',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="B"',
        '',
        '--B',
        'Content-Type: text/plain',
        '',
        'This is an email abuse report for an email message.',
        '--B',
        'Content-Type: message/rfc822',
        '',
        'X-HmXmrOriginalRecipient: <reader@hotmail.com>',
        'From: <news@mailroom.example.com>',
        'To: <undisclosed-recipients:;>',
        'Subject: News',
        '',
        'Hello',
        '--B--',
      ]),
    );
    expect(report?.kind).toBe('complaint');
    expect(report!.recipients[0]!.recipient).toBe('reader@hotmail.com');
  });
});

describe('parseBounce: the reason written above the address', () => {
  it("reads Lotus Notes' 'Failure Reasons' section, the reason on the line above the address", async () => {
    const report = await parseBounce(
      eml([
        'From: <postmaster@notes.example.com>',
        'To: <support@mailroom.example.com>',
        'Subject: Delivery Failure Report',
        '',
        '------- Failure Reasons  --------',
        '',
        'User  not listed in public Name & Address Book',
        'jdoe@notes.example.com',
        '',
        '',
        '------- Returned Message --------',
        'From: support@mailroom.example.com',
        'To: jdoe@notes.example.com',
        'Subject: Ticket',
        '',
        'Hello',
      ]),
    );
    expect(report!.recipients[0]).toMatchObject({ recipient: 'jdoe@notes.example.com', reason: 'userunknown', decidedBy: 'phrase', hard: true });
  });
});
