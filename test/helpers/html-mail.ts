import { randomBytes } from 'node:crypto';

/** A real 1×1 PNG, so a browser that shows it reports naturalWidth 1. */
export const PIXEL_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

/**
 * A multipart/alternative mail whose HTML part sits in a multipart/related with an inline PNG
 * (Content-ID `contentId`), the shape mail clients send a signature logo or a pasted picture in.
 * CRLF line ends.
 */
export function htmlMailWithInlineImage(options: { from: string; to: string; subject: string; text: string; html: string; contentId: string }): string {
  const tag = randomBytes(4).toString('hex');
  const alternative = `alt-${tag}`;
  const related = `rel-${tag}`;
  return [
    `From: ${options.from}`,
    `To: ${options.to}`,
    `Subject: ${options.subject}`,
    'Date: Sat, 21 Nov 2026 10:00:00 +0000',
    `Message-ID: <html.${tag}@client.test>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${alternative}"`,
    '',
    `--${alternative}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    options.text,
    `--${alternative}`,
    `Content-Type: multipart/related; boundary="${related}"`,
    '',
    `--${related}`,
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    ...(Buffer.from(options.html, 'utf8').toString('base64').match(/.{1,76}/g) ?? []),
    `--${related}`,
    'Content-Type: image/png; name="logo.png"',
    'Content-Disposition: inline; filename="logo.png"',
    `Content-ID: <${options.contentId}>`,
    'Content-Transfer-Encoding: base64',
    '',
    PIXEL_PNG.toString('base64'),
    `--${related}--`,
    `--${alternative}--`,
    '',
  ].join('\r\n');
}
