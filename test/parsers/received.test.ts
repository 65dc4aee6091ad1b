import { describe, expect, it } from 'vitest';
import { relayedClient } from '../../parsers/received.js';

const raw = (headers: string) => Buffer.from(`${headers}\r\nSubject: x\r\n\r\nbody\r\n`);

describe('the client a relay received a message from', () => {
  it.each([
    ['Postfix', 'Received: from mail.cliente.es (mail.cliente.es [203.0.113.7])\r\n\tby mx.example.com (Postfix) with ESMTPS id 4F2; Thu, 3 Dec 2026 10:00:00 +0000', { ip: '203.0.113.7', helo: 'mail.cliente.es' }],
    ['an IPv6 client', 'Received: from [IPv6:2001:db8::25] (unknown [IPv6:2001:db8::25])\r\n by mx.example.com with ESMTP', { ip: '2001:db8::25', helo: null }],
    ['Exim', 'Received: from [198.51.100.4] (helo=laptop)\r\n\tby mx.example.com with esmtp (Exim 4.96)', { ip: '198.51.100.4', helo: null }],
  ])('%s', (_case, header, client) => {
    expect(relayedClient(raw(header))).toEqual(client);
  });

  it('reads the topmost Received only: the one the relay in front of mailroom added', () => {
    const headers = 'Received: from relay.example.com (relay.example.com [192.0.2.1]) by mx.example.com\r\nReceived: from evil (evil [198.51.100.66]) by relay.example.com';
    expect(relayedClient(raw(headers))?.ip).toBe('192.0.2.1');
  });

  it('gives null without a Received header or an address in it', () => {
    expect(relayedClient(raw('From: a@b.example'))).toBeNull();
    expect(relayedClient(raw('Received: by mx.example.com (Postfix, from userid 0)'))).toBeNull();
  });
});
