import { describe, expect, it } from 'vitest';
import { parseAuthenticationResults, trustedSpfResult } from '../../parsers/authentication-results.js';

const RELAY_RECEIVED = 'Received: from mail.cliente.es (mail.cliente.es [203.0.113.7])\r\n\tby mx.example.com (Postfix) with ESMTPS id 4F2; Thu, 3 Dec 2026 10:00:00 +0000';

/** A message with the given header lines on top, CRLF-terminated unless `eol` says otherwise. */
function message(headers: string[], { eol = '\r\n', body = 'Hola\r\n' } = {}): Buffer {
  const lines = [...headers, 'From: Ana <ana@cliente.es>', 'Subject: pedido'].map((line) => line.replace(/\r\n/g, eol));
  return Buffer.from(`${lines.join(eol)}${eol}${eol}${body.replace(/\r\n/g, eol)}`);
}

describe('parseAuthenticationResults', () => {
  it('reads the header a Postfix relay with an SPF policy service stamps', () => {
    expect(parseAuthenticationResults(' mx.example.com; spf=pass (sender SPF authorized) smtp.mailfrom=ana@cliente.es')).toEqual({
      authservId: 'mx.example.com',
      results: [{ method: 'spf', result: 'pass', properties: { 'smtp.mailfrom': 'ana@cliente.es' } }],
    });
  });

  it('reads every resinfo of an OpenDKIM/OpenDMARC style header, comments holding ; and = stripped', () => {
    const value = 'mx.example.com;\r\n\tdkim=pass (2048-bit key; unprotected) header.d=cliente.es header.i=@cliente.es header.b="AbCd12+/";\r\n\tspf=softfail smtp.helo=mail.cliente.es;\r\n\tdmarc=pass (p=none dis=none) header.from=cliente.es';
    expect(parseAuthenticationResults(value)?.results).toEqual([
      { method: 'dkim', result: 'pass', properties: { 'header.d': 'cliente.es', 'header.i': '@cliente.es', 'header.b': 'AbCd12+/' } },
      { method: 'spf', result: 'softfail', properties: { 'smtp.helo': 'mail.cliente.es' } },
      { method: 'dmarc', result: 'pass', properties: { 'header.from': 'cliente.es' } },
    ]);
  });

  it('strips nested comments with ;, = and escaped parentheses wherever they stand', () => {
    const value = '(outer (inner; spf=fail) \\) still; comment) mx.example.com (x=1; (y=2)) ; (c; d=e) spf (a) = (b;) pass (why (nested; spf=fail) \\(;) smtp.mailfrom = (z=1) ana@cliente.es(ends; the value); dkim=none';
    expect(parseAuthenticationResults(value)).toEqual({
      authservId: 'mx.example.com',
      results: [
        { method: 'spf', result: 'pass', properties: { 'smtp.mailfrom': 'ana@cliente.es' } },
        { method: 'dkim', result: 'none', properties: {} },
      ],
    });
  });

  it('reads a quoted authserv-id, quoted values with escapes and a reason', () => {
    const value = '"MX.Example.com"; spf=pass reason="SPF \\"record\\" ok; fine" smtp.mailfrom="ana (no comment); x"@Cliente.es; auth=pass smtp.auth="ana b"';
    expect(parseAuthenticationResults(value)).toEqual({
      authservId: 'mx.example.com',
      results: [
        { method: 'spf', result: 'pass', reason: 'SPF "record" ok; fine', properties: { 'smtp.mailfrom': 'ana (no comment); x@Cliente.es' } },
        { method: 'auth', result: 'pass', properties: { 'smtp.auth': 'ana b' } },
      ],
    });
  });

  it('takes the version of the header and of a method', () => {
    expect(parseAuthenticationResults('mx.example.com 1; spf/1=pass smtp.mailfrom=ana@cliente.es; dkim / 1 = fail header.d=cliente.es')).toEqual({
      authservId: 'mx.example.com',
      results: [
        { method: 'spf', result: 'pass', properties: { 'smtp.mailfrom': 'ana@cliente.es' } },
        { method: 'dkim', result: 'fail', properties: { 'header.d': 'cliente.es' } },
      ],
    });
  });

  it('gives no results for none', () => {
    expect(parseAuthenticationResults('mx.example.com; none')).toEqual({ authservId: 'mx.example.com', results: [] });
    expect(parseAuthenticationResults('mx.example.com 1 ; (nothing checked) NONE (really)')).toEqual({ authservId: 'mx.example.com', results: [] });
  });

  it('lower-cases the authserv-id, methods, results and property names, not property values', () => {
    expect(parseAuthenticationResults('MX.EXAMPLE.COM; SPF=PASS SMTP.MailFrom=Ana@Cliente.ES')).toEqual({
      authservId: 'mx.example.com',
      results: [{ method: 'spf', result: 'pass', properties: { 'smtp.mailfrom': 'Ana@Cliente.ES' } }],
    });
  });

  it.each([
    ['empty', ''],
    ['only a comment', '(mx.example.com; spf=pass)'],
    ['no authserv-id', 'spf=pass smtp.mailfrom=ana@cliente.es'],
    ['an empty quoted authserv-id', '""; spf=pass'],
    ['no ; after the authserv-id', 'mx.example.com spf=pass'],
    ['an unclosed comment before the results', 'mx.example.com (spf=pass; spf=pass'],
  ])('gives null for garbage: %s', (_case, value) => {
    expect(parseAuthenticationResults(value)).toBeNull();
  });

  it('skips a malformed resinfo, resyncing past quoted and commented semicolons, and keeps the rest', () => {
    const value = 'mx.example.com; spf=pass smtp.mailfrom ana@x.example "; spf=pass" (; spf=pass); dkim=pass header.d=cliente.es; spf=fail smtp.mailfrom="unclosed; spf=pass';
    expect(parseAuthenticationResults(value)?.results).toEqual([{ method: 'dkim', result: 'pass', properties: { 'header.d': 'cliente.es' } }]);
  });

  it('reads only the first 16 KB and drops a resinfo cut there', () => {
    const padding = `(${'x'.repeat(16 * 1024)})`;
    expect(parseAuthenticationResults(`mx.example.com; dkim=pass header.d=cliente.es; ${padding} spf=pass`)?.results.map((r) => r.method)).toEqual(['dkim']);
    const cutInValue = `mx.example.com; spf=pass smtp.mailfrom=ana@cliente.es.${'a'.repeat(16 * 1024)}`;
    expect(parseAuthenticationResults(cutInValue)?.results).toEqual([]);
  });
});

describe('trustedSpfResult', () => {
  const ids = ['mx.example.com'];

  it('takes the relay\'s SPF result and the MAIL FROM domain', () => {
    const raw = message(['Authentication-Results: mx.example.com; spf=pass (sender SPF authorized) smtp.mailfrom=ana@Cliente.ES; dkim=pass header.d=cliente.es', RELAY_RECEIVED]);
    expect(trustedSpfResult(raw, ids)).toEqual({ result: 'pass', domain: 'cliente.es', authservId: 'mx.example.com' });
  });

  it('reads a header folded over several lines, with CRLF and with LF', () => {
    const folded = 'Authentication-Results: mx.example.com;\r\n\tdkim=pass header.d=cliente.es;\r\n  spf=fail\r\n    (mx.example.com: domain of ana@cliente.es does not\r\n     designate 198.51.100.66 as permitted sender)\r\n\tsmtp.mailfrom=ana@cliente.es';
    for (const eol of ['\r\n', '\n']) {
      expect(trustedSpfResult(message([folded, RELAY_RECEIVED], { eol }), ids)).toEqual({ result: 'fail', domain: 'cliente.es', authservId: 'mx.example.com' });
    }
  });

  it('ignores a forged header below the topmost Received, even with the right authserv-id', () => {
    const raw = message([RELAY_RECEIVED, 'Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=ceo@cliente.es', 'Received: from laptop by evil.example']);
    expect(trustedSpfResult(raw, ids)).toBeNull();
  });

  it('ignores a header above Received from another authserv-id, and does not look past Received for one', () => {
    const raw = message([
      'Authentication-Results: spam-filter.example.com; spf=pass smtp.mailfrom=ana@cliente.es',
      RELAY_RECEIVED,
      'Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=ana@cliente.es',
    ]);
    expect(trustedSpfResult(raw, ids)).toBeNull();
  });

  it('takes the topmost of two trusted headers', () => {
    const raw = message([
      'Authentication-Results: mx.example.com; spf=softfail smtp.mailfrom=ana@cliente.es',
      'Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=ana@cliente.es',
      RELAY_RECEIVED,
    ]);
    expect(trustedSpfResult(raw, ids)?.result).toBe('softfail');
  });

  it('passes over a trusted header without spf and a malformed one to the next trusted one', () => {
    const raw = message([
      'Authentication-Results: mx.example.com; dkim=pass header.d=cliente.es; dmarc=pass header.from=cliente.es',
      'Authentication-Results: spf=fail',
      'Authentication-Results: mx.example.com; none',
      'Authentication-Results: mx.example.com; spf=neutral smtp.helo=mail.cliente.es',
      RELAY_RECEIVED,
    ]);
    expect(trustedSpfResult(raw, ids)).toEqual({ result: 'neutral', domain: 'mail.cliente.es', authservId: 'mx.example.com' });
  });

  it('ignores Authentication-Results and Received in the body', () => {
    const body = 'Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=ana@cliente.es\r\nReceived: from x by mx.example.com\r\n';
    for (const eol of ['\r\n', '\n']) {
      expect(trustedSpfResult(message([RELAY_RECEIVED], { body, eol }), ids)).toBeNull();
      // the header block has no Received; the body's lines must not stand in for one
      expect(trustedSpfResult(message([], { body, eol }), ids)).toBeNull();
    }
  });

  it('gives null when there is no Received header: no relay added anything', () => {
    const raw = message(['Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=ana@cliente.es']);
    expect(trustedSpfResult(raw, ids)).toBeNull();
  });

  it('gives null for an unknown result word rather than looking further down', () => {
    const raw = message([
      'Authentication-Results: mx.example.com; spf=hardfail smtp.mailfrom=ana@cliente.es',
      'Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=ana@cliente.es',
      RELAY_RECEIVED,
    ]);
    expect(trustedSpfResult(raw, ids)).toBeNull();
  });

  it('matches authserv-ids case-insensitively, both ways', () => {
    const raw = message(['Authentication-Results: MX.Example.COM; spf=temperror smtp.mailfrom=ana@cliente.es', RELAY_RECEIVED]);
    expect(trustedSpfResult(raw, ['mx.example.com'])?.result).toBe('temperror');
    expect(trustedSpfResult(raw, ['other.example', ' MX.EXAMPLE.com '])?.authservId).toBe('mx.example.com');
  });

  it('gives null for an empty list of authserv-ids', () => {
    const raw = message(['Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=ana@cliente.es', RELAY_RECEIVED]);
    expect(trustedSpfResult(raw, [])).toBeNull();
    expect(trustedSpfResult(raw, [''])).toBeNull();
  });

  it('reads header names case-insensitively', () => {
    const raw = message(['authentication-RESULTS: mx.example.com; spf=pass smtp.mailfrom=ana@cliente.es', 'RECEIVED: from x by mx.example.com']);
    expect(trustedSpfResult(raw, ids)?.result).toBe('pass');
    const forged = message(['received: from x by mx.example.com', 'AUTHENTICATION-results: mx.example.com; spf=pass']);
    expect(trustedSpfResult(forged, ids)).toBeNull();
  });

  it.each([
    ['a bare domain (OpenDMARC style)', 'spf=pass smtp.mailfrom=Cliente.ES', 'cliente.es'],
    ['@domain', 'spf=pass smtp.mailfrom=@cliente.es', 'cliente.es'],
    ['the last @ of a quoted local part', 'spf=pass smtp.mailfrom="a@b"@cliente.es', 'cliente.es'],
    ['HELO when MAIL FROM is absent', 'spf=none smtp.helo=Mail.Cliente.es', 'mail.cliente.es'],
    ['HELO when MAIL FROM is empty (null sender)', 'spf=pass smtp.mailfrom="" smtp.helo=mail.cliente.es', 'mail.cliente.es'],
    ['MAIL FROM over HELO', 'spf=permerror smtp.helo=mail.other.example smtp.mailfrom=ana@cliente.es', 'cliente.es'],
    ['neither', 'spf=pass', null],
  ])('takes the domain from %s', (_case, resinfo, domain) => {
    const raw = message([`Authentication-Results: mx.example.com; ${resinfo}`, RELAY_RECEIVED]);
    expect(trustedSpfResult(raw, ids)?.domain).toBe(domain);
  });

  it('reads only the first 1 MB: a Received beyond it is not seen, so nothing is trusted', () => {
    const raw = message(['Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=ana@cliente.es', `X-Padding: ${'x'.repeat(1024 * 1024)}`, RELAY_RECEIVED]);
    expect(trustedSpfResult(raw, ids)).toBeNull();
    const small = message(['Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=ana@cliente.es', `X-Padding: ${'x'.repeat(1000)}`, RELAY_RECEIVED]);
    expect(trustedSpfResult(small, ids)?.result).toBe('pass');
  });
});
