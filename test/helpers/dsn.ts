/** One recipient's part of a delivery status notification. */
export interface DsnRecipient {
  address: string;
  action: 'failed' | 'delayed';
  status: string;
  diagnostic: string;
}

/** Builds an RFC 3464 delivery status notification, as a remote MTA would send it. */
export function buildDsn(options: {
  to: string;
  originalMessageId: string;
  recipients: DsnRecipient[];
  reportingMta?: string;
}): string {
  const boundary = 'dsn-boundary-1';
  const mta = options.reportingMta ?? 'mx.client.example';
  const perRecipient = options.recipients
    .map((r) => [`Final-Recipient: rfc822; ${r.address}`, `Action: ${r.action}`, `Status: ${r.status}`, `Remote-MTA: dns; ${mta}`, `Diagnostic-Code: smtp; ${r.diagnostic}`].join('\r\n'))
    .join('\r\n\r\n');
  return [
    'From: Mail Delivery System <MAILER-DAEMON@relay.example>',
    `To: ${options.to}`,
    `Subject: ${options.recipients.every((r) => r.action === 'delayed') ? 'Delayed Mail (still being retried)' : 'Undelivered Mail Returned to Sender'}`,
    `Message-ID: <dsn.${Math.random().toString(36).slice(2)}@relay.example>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is the mail system at host relay.example. I am sorry to have to inform you that your message could not be delivered.',
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    `Reporting-MTA: dns; relay.example`,
    `Arrival-Date: Sat, 21 Nov 2026 10:00:00 +0000`,
    '',
    perRecipient,
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    'From: Soporte <soporte@example.com>',
    `Message-ID: <${options.originalMessageId}>`,
    'Subject: [#1000] Hemos recibido su solicitud',
    '',
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

/** Builds an RFC 5965 feedback report (a complaint), as a mailbox provider's feedback loop sends it. */
export function buildArf(options: { to: string; originalMessageId: string; complainers: string[] }): string {
  const boundary = 'arf-boundary-1';
  return [
    'From: <feedback@provider.example>',
    `To: ${options.to}`,
    'Subject: complaint about message from 192.0.2.1',
    `Message-ID: <arf.${Math.random().toString(36).slice(2)}@provider.example>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=feedback-report; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain',
    '',
    'This is an email abuse report.',
    '',
    `--${boundary}`,
    'Content-Type: message/feedback-report',
    '',
    'Feedback-Type: abuse',
    'User-Agent: SomeGenerator/1.0',
    'Version: 1',
    ...options.complainers.map((address) => `Original-Rcpt-To: <${address}>`),
    '',
    `--${boundary}`,
    'Content-Type: message/rfc822',
    '',
    'From: Soporte <soporte@example.com>',
    `Message-ID: <${options.originalMessageId}>`,
    'Subject: Received',
    '',
    'Body',
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

/** A message from its lines, joined with CRLF as mail travels. */
export function eml(lines: string[]): Buffer {
  return Buffer.from(lines.join('\r\n'), 'utf8');
}
