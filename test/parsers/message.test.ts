import { createHash } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { parseMessage, type ParsedMessage } from '../../parsers/message.js';

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');
const lf = (lines: string[]): Buffer => Buffer.from(lines.join('\n'), 'utf8');

/** Parses a message the test expects to be readable, so each test can look at the fields. */
async function parsed(raw: Buffer): Promise<ParsedMessage> {
  const result = await parseMessage(raw);
  if (!result.ok) throw new Error(`test message did not parse: ${result.error}`);
  return result.message;
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every string reachable from a parsed message, with where it was found; attachment bytes excluded. */
function stringFields(value: unknown, path: string, out: Array<[string, string]> = []): Array<[string, string]> {
  if (typeof value === 'string') out.push([path, value]);
  else if (Buffer.isBuffer(value) || value === null || typeof value !== 'object') return out;
  else if (value instanceof Map) {
    for (const [key, entry] of value) {
      stringFields(key, `${path} key`, out);
      stringFields(entry, `${path}.${String(key)}`, out);
    }
  } else if (Array.isArray(value)) value.forEach((entry, i) => stringFields(entry, `${path}[${i}]`, out));
  else for (const [key, entry] of Object.entries(value)) stringFields(entry, `${path}.${key}`, out);
  return out;
}

const FOLDED = [
  'From: Alice <alice@customer.example>',
  'To: support@mailroom.example',
  'Subject: My printer',
  ' prints only',
  '\tblank pages',
  'Received: from a.example by b.example;',
  '  Mon, 3 Jun 2024 10:00:00 +0000',
  'Received: from c.example by a.example;',
  '  Mon, 3 Jun 2024 09:59:00 +0000',
  'X-Custom-Header: one',
  '',
  'Hello.',
  '',
];

describe('parseMessage headers', () => {
  it.each([
    ['CRLF', crlf(FOLDED)],
    ['LF', lf(FOLDED)],
  ])('unfolds folded header values into the headers map (%s)', async (_endings, raw) => {
    const message = await parsed(raw);
    expect(message.headers.get('subject')).toEqual(['My printer prints only blank pages']);
    expect(message.subject).toBe('My printer prints only blank pages');
  });

  it('keeps repeated headers in order under their lower-case name', async () => {
    const message = await parsed(crlf(FOLDED));
    expect(message.headers.get('received')).toEqual([
      'from a.example by b.example; Mon, 3 Jun 2024 10:00:00 +0000',
      'from c.example by a.example; Mon, 3 Jun 2024 09:59:00 +0000',
    ]);
    expect(message.headers.get('x-custom-header')).toEqual(['one']);
    expect(message.headers.has('X-Custom-Header')).toBe(false);
  });

  it('keeps raw UTF-8 header values readable in the headers map (RFC 6532)', async () => {
    const message = await parsed(crlf(['From: "Jöhn Doe" <john@example.com>', 'Subject: Säying Hello', '', 'body']));
    expect(message.headers.get('subject')).toEqual(['Säying Hello']);
    expect(message.headers.get('from')).toEqual(['"Jöhn Doe" <john@example.com>']);
    expect(message.subject).toBe('Säying Hello');
    expect(message.from).toEqual({ address: 'john@example.com', name: 'Jöhn Doe' });
  });

  it('keeps encoded-words as sent in the headers map and decodes them in the subject', async () => {
    const message = await parsed(crlf(['Subject: =?UTF-8?Q?Caf=C3=A9?= menu', '', 'body']));
    expect(message.headers.get('subject')).toEqual(['=?UTF-8?Q?Caf=C3=A9?= menu']);
    expect(message.subject).toBe('Café menu');
  });

  it('reads raw 8-bit header bytes that are not UTF-8 as windows-1252', async () => {
    const raw = Buffer.concat([
      Buffer.from('From: Jos'),
      Buffer.from([0xe9]),
      Buffer.from(' <jose@example.com>\r\nSubject: Caf'),
      Buffer.from([0xe9, 0x20, 0x80, 0x35]),
      Buffer.from('\r\n\r\nbody\r\n'),
    ]);
    const message = await parsed(raw);
    expect(message.subject).toBe('Café €5');
    expect(message.headers.get('subject')).toEqual(['Café €5']);
    expect(message.from).toEqual({ address: 'jose@example.com', name: 'José' });
  });

  it('reads raw 8-bit header bytes in the charset the message declares', async () => {
    const privet = Buffer.from([0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4]); // "Привет" in KOI8-R
    const raw = Buffer.concat([
      Buffer.from('Subject: '),
      privet,
      Buffer.from('\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n'),
      privet,
      Buffer.from('\r\n'),
    ]);
    const message = await parsed(raw);
    expect(message.subject).toBe('Привет');
    expect(message.text.trim()).toBe('Привет');
  });

  it('leaves the body untouched when it repairs 8-bit headers', async () => {
    const body = Buffer.from('Content-Type: text/plain; charset=utf-8\r\n\r\nna\u00efve\r\n', 'utf8');
    const raw = Buffer.concat([Buffer.from('Subject: na'), Buffer.from([0xef]), Buffer.from('ve\r\n'), body]);
    const message = await parsed(raw);
    expect(message.subject).toBe('naïve');
    expect(message.text.trim()).toBe('naïve');
  });
});

describe('parseMessage addresses', () => {
  const raw = crlf([
    'From: =?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <Joerg@Customer.example>',
    'To: Team: alice@example.com, Bob <bob@example.com>;, carol@example.com',
    'Cc: undisclosed-recipients:;',
    'Reply-To: "Help, Desk" <help@example.com>, other@example.com',
    '',
    'body',
  ]);

  it('decodes an encoded-word display name and keeps the address as sent', async () => {
    expect((await parsed(raw)).from).toEqual({ address: 'Joerg@Customer.example', name: 'Jörg Müller' });
  });

  it('flattens a group into its members, in order', async () => {
    expect((await parsed(raw)).to).toEqual([
      { address: 'alice@example.com', name: '' },
      { address: 'bob@example.com', name: 'Bob' },
      { address: 'carol@example.com', name: '' },
    ]);
  });

  it('reads an empty group as no addresses', async () => {
    expect((await parsed(raw)).cc).toEqual([]);
  });

  it('reads a quoted display name with a comma as one mailbox', async () => {
    expect((await parsed(raw)).replyTo).toEqual([
      { address: 'help@example.com', name: 'Help, Desk' },
      { address: 'other@example.com', name: '' },
    ]);
  });

  it('returns a null from and empty lists for a message without address headers', async () => {
    const message = await parsed(crlf(['Subject: hi', '', 'body']));
    expect(message.from).toBeNull();
    expect(message.to).toEqual([]);
    expect(message.cc).toEqual([]);
    expect(message.replyTo).toEqual([]);
  });
});

describe('parseMessage ids and dates', () => {
  it('reads Message-ID, In-Reply-To and References without angle brackets', async () => {
    const message = await parsed(
      crlf([
        'Message-ID: <new@mail.example>',
        'In-Reply-To: <parent@mail.example>',
        'References: <root@mail.example>',
        ' <parent@mail.example>',
        '',
        'body',
      ]),
    );
    expect(message.messageId).toBe('new@mail.example');
    expect(message.inReplyTo).toEqual(['parent@mail.example']);
    expect(message.references).toEqual(['root@mail.example', 'parent@mail.example']);
  });

  it('reads a Message-ID followed by a comment', async () => {
    const message = await parsed(crlf(['Message-ID: <id@host.example> (added by relay)', '', 'body']));
    expect(message.messageId).toBe('id@host.example');
  });

  it('reads an In-Reply-To written as a phrase around the id', async () => {
    const message = await parsed(crlf(['In-Reply-To: Your message of "Mon, 3 Jun 2024" <id@host.example>', '', 'b']));
    expect(message.inReplyTo).toEqual(['id@host.example']);
  });

  it('reads the Date header as an instant, comments included', async () => {
    const message = await parsed(crlf(['Date: Fri, 21 Nov 1997 09:55:06 -0600 (CST)', '', 'body']));
    expect(message.date?.toISOString()).toBe('1997-11-21T15:55:06.000Z');
  });

  it('returns a null date, not the current time, for a Date it cannot read', async () => {
    const message = await parsed(crlf(['Date: next Tuesday-ish', '', 'body']));
    expect(message.date).toBeNull();
  });

  it('returns null ids and date when the headers are missing', async () => {
    const message = await parsed(crlf(['Subject: hi', '', 'body']));
    expect(message.messageId).toBeNull();
    expect(message.inReplyTo).toEqual([]);
    expect(message.references).toEqual([]);
    expect(message.date).toBeNull();
  });
});

describe('parseMessage bodies', () => {
  it('derives text and a visible text from an html-only mail', async () => {
    const message = await parsed(
      crlf([
        'From: alice@customer.example',
        'Content-Type: text/html; charset=utf-8',
        '',
        '<html><body><p>Hello <b>there</b>,</p><p>my printer is broken.</p></body></html>',
        '',
      ]),
    );
    expect(message.html).toContain('<b>there</b>');
    expect(message.text).toContain('my printer is broken.');
    expect(message.text).not.toMatch(/<[a-z]/i);
    expect(message.visibleText).toContain('my printer is broken.');
  });

  it('gives a null html for a plain-text mail', async () => {
    const message = await parsed(crlf(['Subject: hi', '', 'Just text.', '']));
    expect(message.html).toBeNull();
    expect(message.text.trim()).toBe('Just text.');
  });

  it('decodes a quoted-printable windows-1252 body', async () => {
    const message = await parsed(
      crlf([
        'Content-Type: text/plain; charset=windows-1252',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        '=93Quoted=94 and =80 5',
        '',
      ]),
    );
    expect(message.text.trim()).toBe('\u201cQuoted\u201d and € 5');
  });

  it('decodes an ISO-2022-JP body', async () => {
    const message = await parsed(
      crlf([
        'Content-Type: text/plain; charset=ISO-2022-JP',
        'Content-Transfer-Encoding: 7bit',
        '',
        '\u001b$B$9$_$^$;$s!#\u001b(B',
        '',
      ]),
    );
    expect(message.text.trim()).toBe('すみません。');
  });
});

describe('parseMessage attachments', () => {
  const hello = Buffer.from('hello world\n');
  const raw = crlf([
    'Content-Type: multipart/mixed; boundary="outer"',
    '',
    '--outer',
    'Content-Type: multipart/related; boundary="inner"',
    '',
    '--inner',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>See <img src="cid:logo@mail.example"></p>',
    '--inner',
    'Content-Type: image/png',
    'Content-Transfer-Encoding: base64',
    'Content-ID: <logo@mail.example>',
    'Content-Disposition: inline',
    '',
    Buffer.from([0x89, 0x50, 0x4e, 0x47]).toString('base64'),
    '--inner--',
    '--outer',
    'Content-Type: text/plain; name="notes.txt"',
    'Content-Disposition: attachment; filename="notes.txt"',
    'Content-Transfer-Encoding: base64',
    '',
    hello.toString('base64'),
    '--outer',
    'Content-Type: application/octet-stream',
    'Content-Disposition: attachment; filename="../../etc/pass\\\\wd"',
    '',
    'x',
    '--outer--',
    '',
  ]);

  it('gives each attachment its decoded size and sha256', async () => {
    const notes = (await parsed(raw)).attachments.find((a) => a.filename === 'notes.txt');
    expect(notes).toMatchObject({
      contentType: 'text/plain',
      disposition: 'attachment',
      size: hello.length,
      sha256: sha256(hello),
    });
    expect(notes?.content?.equals(hello)).toBe(true);
  });

  it('can parse without holding attachment bytes and stream them afterwards, by position', async () => {
    const { readAttachmentContents } = await import('../../parsers/message.js');
    const result = await parseMessage(raw, { keepAttachmentContent: false });
    if (!result.ok) throw new Error(result.error);
    const kept = await parsed(raw);
    expect(result.message.attachments.map((a) => [a.partIndex, a.sha256, a.size, a.content])).toEqual(
      kept.attachments.map((a) => [a.partIndex, a.sha256, a.size, null]),
    );
    const notes = result.message.attachments.find((a) => a.filename === 'notes.txt')!;
    const pieces: Array<[number, Buffer]> = [];
    await readAttachmentContents(raw, new Set([notes.partIndex]), async (index, piece) => {
      pieces.push([index, piece]);
    });
    expect(new Set(pieces.map(([index]) => index))).toEqual(new Set([notes.partIndex]));
    expect(Buffer.concat(pieces.map(([, piece]) => piece)).equals(hello)).toBe(true);
  });

  it('gives an inline image its Content-ID without angle brackets', async () => {
    const image = (await parsed(raw)).attachments.find((a) => a.contentType === 'image/png');
    expect(image).toMatchObject({ contentId: 'logo@mail.example', disposition: 'inline', size: 4 });
  });

  it('replaces path separators in an attachment filename', async () => {
    const names = (await parsed(raw)).attachments.map((a) => a.filename);
    expect(names).toContain('.._.._etc_pass_wd');
    for (const name of names) expect(name ?? '').not.toMatch(/[/\\]/);
  });

  it('replaces a line break inside an encoded filename', async () => {
    const message = await parsed(
      crlf([
        'Content-Type: multipart/mixed; boundary="b"',
        '',
        '--b',
        `Content-Disposition: attachment; filename="=?UTF-8?B?${Buffer.from('a\nb.pdf').toString('base64')}?="`,
        'Content-Type: application/pdf',
        '',
        'x',
        '--b--',
        '',
      ]),
    );
    expect(message.attachments.map((a) => a.filename)).toEqual(['a_b.pdf']);
  });
});

describe('parseMessage on hostile input', () => {
  it('never lets a NUL byte reach a string field', async () => {
    const raw = Buffer.from(
      [
        'From: "Ev\u0000il" <ev\u0000il@x.example>',
        'To: a\u0000b@x.example',
        'X-\u0000Bad: v\u0000v',
        'Subject: s\u0000s =?UTF-8?Q?q=00q?=',
        'Message-ID: <a\u0000b@x.example>',
        'Content-Type: multipart/mixed; boundary=b',
        '',
        '--b',
        'Content-Type: text/plain',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        'te\u0000xt =00 qp',
        '--b',
        'Content-Type: text/html',
        'Content-Transfer-Encoding: base64',
        '',
        Buffer.from('<p>h\u0000tml</p>').toString('base64'),
        '--b',
        'Content-Type: application/o\u0000ctet; name="f\u0000.txt"',
        'Content-Disposition: attach\u0000ment; filename="f\u0000.txt"',
        'Content-ID: <c\u0000id@x.example>',
        '',
        'a\u0000c',
        '--b--',
        '',
      ].join('\r\n'),
      'latin1',
    );
    const message = await parsed(raw);
    const withNul = stringFields(message, 'message').filter(([, value]) => value.includes('\u0000'));
    expect(withNul).toEqual([]);
    expect(message.subject).toContain('ss');
    expect(message.text).toContain('text');
  });

  it('reads a message with no empty line as all headers and no body', async () => {
    const result = await parseMessage(crlf(['From: alice@customer.example', 'Subject: only headers']));
    expect(result).toMatchObject({ ok: true, message: { subject: 'only headers', text: '', html: null } });
  });

  it('returns an empty message, not an error, for an empty buffer', async () => {
    const result = await parseMessage(Buffer.alloc(0));
    expect(result).toEqual({
      ok: true,
      message: expect.objectContaining({
        subject: '',
        from: null,
        to: [],
        date: null,
        messageId: null,
        text: '',
        html: null,
        visibleText: '',
        contentType: null,
        headers: new Map(),
        attachments: [],
        bodyHash: sha256(''),
      }),
    });
  });

  it('returns ok: false, without throwing, for a header over mailparser’s size limit', async () => {
    const result = await parseMessage(Buffer.from(`Subject: ${'a'.repeat(2_000_000)}\r\n\r\nbody`));
    expect(result).toMatchObject({ ok: false, error: expect.any(String) });
  });

  it('does not throw on random bytes or on 300 nested multiparts', async () => {
    let nested = '';
    for (let i = 0; i < 300; i += 1) nested += `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`;
    nested += 'Content-Type: text/plain\r\n\r\ndeep\r\n';
    const noise = Buffer.from(Array.from({ length: 65_536 }, (_, i) => (i * 7919 + 13) % 256));
    for (const raw of [noise, Buffer.from(nested)]) {
      await expect(parseMessage(raw)).resolves.toHaveProperty('ok');
    }
  });
});

describe('parseMessage bodyHash', () => {
  const body = ['Subject: Printer', 'Message-ID: <m1@customer.example>', '', 'It prints blank pages.', ''];

  it('is equal for one message relayed with different Received headers', async () => {
    const first = await parsed(crlf(['Received: from a.example by mx1.example; Mon, 3 Jun 2024 10:00:00 +0000', ...body]));
    const second = await parsed(
      crlf([
        'Received: from mx1.example by mx2.example; Mon, 3 Jun 2024 10:00:05 +0000',
        'Received: from a.example by mx1.example; Mon, 3 Jun 2024 10:00:00 +0000',
        ...body,
      ]),
    );
    expect(second.bodyHash).toBe(first.bodyHash);
  });

  it('differs for a different body', async () => {
    const first = await parsed(crlf(body));
    const second = await parsed(crlf([...body.slice(0, -2), 'It prints black pages.', '']));
    expect(second.bodyHash).not.toBe(first.bodyHash);
  });

  it.each([
    ['CRLF', 'Subject: x\r\n\r\nthe body'],
    ['LF', 'Subject: x\n\nthe body'],
    ['LF headers and a CRLF empty line', 'Subject: x\n\r\nthe body'],
    ['CRLF headers and an LF empty line', 'Subject: x\r\n\nthe body'],
  ])('hashes the bytes after the first empty line (%s)', async (_endings, raw) => {
    expect((await parsed(Buffer.from(raw))).bodyHash).toBe(sha256('the body'));
  });
});

describe('inputs that stall mailparser', () => {
  it.each([
    ['CRLF', 'Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n'],
    ['LF, no final line break', 'Content-Type: message/rfc822\nContent-Disposition: inline'],
  ])('settles on a header-only message/rfc822 with no blank line (%s)', async (_name, text) => {
    const result = await Promise.race([parseMessage(Buffer.from(text)), new Promise<'stalled'>((resolve) => setTimeout(() => resolve('stalled'), 3000))]);
    expect(result).not.toBe('stalled');
    expect((result as { ok: boolean }).ok).toBe(true);
  });
});
