import { describe, expect, it } from 'vitest';
import { contentDisposition, safeContentType } from '../../daemon/http/api/attachments.js';

describe('attachment download headers', () => {
  it.each([
    ['"evil\r\nX: y.html', `attachment; filename="evilX: y.html"; filename*=UTF-8''evilX%3A%20y.html`],
    ['factura ñ.pdf', `attachment; filename="factura _.pdf"; filename*=UTF-8''factura%20%C3%B1.pdf`],
    ["it's (1).txt", `attachment; filename="it's (1).txt"; filename*=UTF-8''it%27s%20%281%29.txt`],
    ['..\\..\\boot.ini', `attachment; filename="....boot.ini"; filename*=UTF-8''....boot.ini`],
    [null, `attachment; filename="attachment-1-0"; filename*=UTF-8''attachment-1-0`],
    ['\r\n"', `attachment; filename="attachment-1-0"; filename*=UTF-8''attachment-1-0`],
  ])('writes a Content-Disposition no filename can break out of: %j', (filename, expected) => {
    const header = contentDisposition(filename, 'attachment-1-0');
    expect(header).toBe(expected);
    expect(header).not.toMatch(/[\r\n]/);
  });

  it.each([
    ['image/png', 'image/png'],
    ['Application/PDF; name="x.pdf"', 'application/pdf'],
    ['text/plain; charset=utf-8', 'text/plain'],
    ['text/html; charset=utf-8', 'application/octet-stream'],
    ['image/svg+xml', 'application/octet-stream'],
    ['application/xhtml+xml', 'application/octet-stream'],
    ['text/xml', 'application/octet-stream'],
    ['application/javascript', 'application/octet-stream'],
    ['text/javascript', 'application/octet-stream'],
    ['image/png\r\nX-Evil: 1', 'application/octet-stream'],
    ['nonsense', 'application/octet-stream'],
  ])('serves %j as %s', (stored, served) => {
    expect(safeContentType(stored)).toBe(served);
  });
});
