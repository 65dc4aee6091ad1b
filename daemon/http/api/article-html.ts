import type http from 'node:http';

/**
 * Serves an article's sanitized HTML part as a page of its own, under a policy that holds even if
 * the sanitizer missed something: no script runs (CSP `sandbox` without allow-scripts, and no
 * script source), nothing loads but our own images, data: images and, when asked, remote ones;
 * the document gets an opaque origin, so it can neither read the console nor act as it.
 * `frameAncestors` is `'self'` for the console's frame and `'none'` for the API.
 */
export function sendArticleHtml(res: http.ServerResponse, html: string, options: { remoteImages: boolean; frameAncestors: "'self'" | "'none'" }): void {
  const policy = [
    "default-src 'none'",
    `img-src 'self' data:${options.remoteImages ? ' https: http:' : ''}`,
    // Inline style attributes only, and the sanitizer keeps only properties whose values cannot load anything.
    "style-src 'unsafe-inline'",
    // Popups so that a link (target=_blank) opens, as a page of its own outside the sandbox; without
    // them a click does nothing. Scripts, forms, same-origin and top navigation stay off.
    'sandbox allow-popups allow-popups-to-escape-sandbox',
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${options.frameAncestors}`,
  ].join('; ');
  const body = `<!doctype html>\n<html><head><meta charset="utf-8"><title>HTML part</title></head><body>\n${html}\n</body></html>\n`;
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'content-security-policy': policy,
    'x-frame-options': options.frameAncestors === "'self'" ? 'SAMEORIGIN' : 'DENY',
    'x-content-type-options': 'nosniff',
    // A remote image host must not learn which ticket was being read.
    'referrer-policy': 'no-referrer',
    'cache-control': 'private, no-store',
  });
  res.end(body);
}
