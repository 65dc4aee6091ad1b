import { describe, expect, it } from 'vitest';
import { MAX_HTML_CHARS, sanitizeMailHtml, type SanitizeMailHtmlOptions } from '../../daemon/reports/sanitize-mail-html.js';

const options: SanitizeMailHtmlOptions = {
  attachments: [
    { id: '7-0', contentId: 'logo.1@client.test' },
    { id: '7-1', contentId: 'photo 2@client.test' },
    { id: '7-2', contentId: null },
  ],
  attachmentUrl: (id) => `/api/v1/attachments/${id}`,
};
const clean = (html: string, more: Partial<SanitizeMailHtmlOptions> = {}) => sanitizeMailHtml(html, { ...options, ...more });

/** Whatever the input, none of these may be in the output. */
const NEVER = [/<script/i, /<style/i, /<iframe/i, /<object/i, /<embed/i, /<form/i, /<input/i, /<svg/i, /<math/i, /<meta/i, /<base/i, /<link/i, /\son\w+\s*=/i, /javascript:/i, /vbscript:/i, /srcset/i, /background\s*=/i, /url\(/i, /@import/i];

describe('sanitizeMailHtml', () => {
  it.each([
    ['a script element', '<p>a</p><script>alert(1)</script><p>b</p>', '<p>a</p><p>b</p>'],
    ['a script split by a stray angle bracket', '<<script>script>alert(1)</script>', '&lt;'],
    ['an event handler on an image', '<img src="cid:logo.1@client.test" onerror="alert(1)">', '<img src="/api/v1/attachments/7-0" />'],
    ['an event handler on an allowed element', '<details open ontoggle="alert(1)"><summary>s</summary></details>', '<details open><summary>s</summary></details>'],
    ['a javascript: link', '<a href="javascript:alert(1)">x</a>', '<a rel="noopener noreferrer" target="_blank">x</a>'],
    ['a javascript: link spelt with an entity', '<a href="jav&#x61;script&colon;alert(1)">x</a>', '<a rel="noopener noreferrer" target="_blank">x</a>'],
    ['a javascript: link split by a tab and a newline', '<a href="java\tscr\nipt:alert(1)">x</a>', '<a rel="noopener noreferrer" target="_blank">x</a>'],
    ['a javascript: link with leading control characters', '<a href="\u0001 javascript:alert(1)">x</a>', '<a rel="noopener noreferrer" target="_blank">x</a>'],
    ['a data: link', '<a href="data:text/html,<script>alert(1)</script>">x</a>', '<a rel="noopener noreferrer" target="_blank">x</a>'],
    ['a relative link (it would resolve against the console)', '<a href="/logout">x</a>', '<a rel="noopener noreferrer" target="_blank">x</a>'],
    ['svg with onload', '<svg onload="alert(1)"><circle r="1"/><text>t</text></svg>', 't'],
    ['a style block with @import', '<style>@import url(http://evil.test/x.css); p { color: red }</style><p>x</p>', '<p>x</p>'],
    ['a meta refresh', '<meta http-equiv="refresh" content="0;url=http://evil.test/">x', 'x'],
    ['a base href', '<base href="http://evil.test/"><a href="https://ok.test/">x</a>', '<a href="https://ok.test/" rel="noopener noreferrer" target="_blank">x</a>'],
    ['a form', '<form action="http://evil.test/"><input name="pw"><button formaction="http://evil.test/">Go</button></form>', 'Go'],
    ['an iframe', '<iframe src="http://evil.test/" srcdoc="<script>alert(1)</script>"></iframe>x', 'x'],
    ['an object and an embed', '<object data="http://evil.test/x.swf"></object><embed src="http://evil.test/x.swf">x', 'x'],
    ['a remote srcset', '<img src="data:image/png;base64,iVBORw0KGgo=" srcset="http://evil.test/2x.png 2x">', '<img src="data:image/png;base64,iVBORw0KGgo=" />'],
    ['a background attribute', '<table background="http://evil.test/bg.png"><tr><td background="http://evil.test/c.png">c</td></tr></table>', '<table><tr><td>c</td></tr></table>'],
    ['a textarea holding markup', '<textarea><img src=x onerror=alert(1)></textarea>x', 'x'],
    ['a noscript hiding markup in an attribute', '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></p></noscript>x', 'x'],
    ['a title, which is metadata', '<title>Invoice</title><p>x</p>', '<p>x</p>'],
    ['nested, unclosed tags', '<div><p><b>bold <i>both</div></b>after', '<div><p><b>bold <i>both</i></b></p></div>after'],
    ['an unclosed attribute at the end', '<p>x</p><img src="cid:logo.1@client.test', '<p>x</p>'],
    ['comments and CDATA', '<!-- <script>alert(1)</script> --><![CDATA[<script>alert(1)</script>]]>x', 'x'],
  ])('makes %s inert', (_name, input, expected) => {
    const output = clean(input);
    expect(output).toBe(expected);
    for (const pattern of NEVER) expect(output).not.toMatch(pattern);
  });

  it('rewrites a cid: image to its attachment by Content-ID, percent-encoded or not, and drops one that matches nothing', () => {
    expect(clean('<img src="cid:logo.1@client.test" alt="Logo" width="120">')).toBe('<img src="/api/v1/attachments/7-0" alt="Logo" width="120" />');
    expect(clean('<img src="CID:photo%202@client.test">')).toBe('<img src="/api/v1/attachments/7-1" />');
    expect(clean('<p>a<img src="cid:unknown@client.test" alt="gone">b</p>')).toBe('<p>ab</p>');
    expect(clean('<img src="cid:logo.1@client.test">', { attachmentUrl: (id) => `/attachments/${id}` })).toBe('<img src="/attachments/7-0" />');
    expect(clean('<img src="cid:logo.1@client.test">', { attachmentUrl: () => null })).toBe('');
  });

  it('replaces remote images with a marker unless remote images are asked for, and then keeps only http and https sources', () => {
    const input = '<img src="https://tracker.test/p.png?u=1" alt="Logo"><img src="http://tracker.test/q.png"><img src="//tracker.test/r.png"><img src="ftp://tracker.test/s.png">';
    expect(clean(input)).toBe('<span title="remote image not loaded">[image: Logo]</span><span title="remote image not loaded">[image]</span>');
    expect(clean(input, { remoteImages: true })).toBe('<img src="https://tracker.test/p.png?u=1" alt="Logo" /><img src="http://tracker.test/q.png" />');
  });

  it('keeps data: images only as PNG, JPEG, GIF or WebP', () => {
    expect(clean('<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">')).toBe('<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" />');
    expect(clean('<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">')).toBe('');
    expect(clean('<img src="data:text/html;base64,PHNjcmlwdD4=">')).toBe('');
  });

  it('opens links in a new tab without a referrer, to http, https and mailto only', () => {
    expect(clean('<a href="https://example.com/a?b=1&amp;c=2" target="_self" rel="opener" onclick="x()">a</a>')).toBe(
      '<a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer" target="_blank">a</a>',
    );
    expect(clean('<a href="mailto:help@example.com">m</a>')).toBe('<a href="mailto:help@example.com" rel="noopener noreferrer" target="_blank">m</a>');
    expect(clean('<a href="file:///etc/passwd">f</a>')).toBe('<a rel="noopener noreferrer" target="_blank">f</a>');
  });

  it('keeps layout: tables, fonts and inline styles whose values load nothing', () => {
    expect(clean('<table width="600" cellpadding="4" class="x" id="y"><tr><td align="right" bgcolor="#eeeeee" colspan="2"><font color="red" face="Arial">1,00 €</font></td></tr></table>')).toBe(
      '<table width="600" cellpadding="4"><tr><td align="right" bgcolor="#eeeeee" colspan="2"><font color="red" face="Arial">1,00 €</font></td></tr></table>',
    );
    expect(clean(`<p style="color: #333; font-family: 'Segoe UI', Arial; background: url(http://t.test/a.png); background-color: rgb(1, 2, 3); position: fixed; top: 0; width: 100%">x</p>`)).toBe(
      `<p style="color:#333;font-family:'Segoe UI', Arial;background-color:rgb(1, 2, 3);width:100%">x</p>`,
    );
    // A CSS escape could spell url( or expression(: no backslash is kept.
    expect(clean('<p style="background: \\75 rl(http://t.test/a.png); color: expression(alert(1))">x</p>')).toBe('<p>x</p>');
  });

  it('cuts a part longer than the limit and says so, still well-formed', () => {
    const output = clean(`<div><b>${'x'.repeat(MAX_HTML_CHARS)}</b></div>`);
    expect(output.startsWith('<div><b>xxx')).toBe(true);
    expect(output).toMatch(/<\/b><\/div><p>\[The HTML part is cut here: it is longer than 1,000,000 characters\.\]<\/p>$/);
  });
});
