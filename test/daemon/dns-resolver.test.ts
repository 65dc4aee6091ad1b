import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createDnsResolver } from '../../daemon/dns-resolver.js';
import { startTestDns, type TestDns } from '../helpers/dns-server.js';

/*
 * The resolver against a real DNS server of the test's, over real sockets. The cases wait on real
 * TTLs, so they run side by side, each with its own resolver (its own cache) and its own names.
 */
let dns: TestDns;
beforeAll(async () => {
  dns = await startTestDns();
});
afterAll(async () => {
  await dns?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const resolver = () => createDnsResolver([dns.address]);

describe.concurrent('DNS for sender authentication', () => {
  it('answers in the shapes node:dns gives, a 2048-bit DKIM key whole', async ({ expect }) => {
    const resolve = resolver();
    dns.set('shapes.test', 'TXT', ['v=spf1 -all', 'other record']);
    dns.set('shapes.test', 'MX', ['mx.shapes.test']);
    dns.set('shapes.test', 'A', ['192.0.2.1', '192.0.2.2']);
    dns.set('shapes.test', 'AAAA', ['2001:db8::1']);
    // Not the sync variant: it would hold up the timings of the cases running alongside.
    const { publicKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
    const der = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const key = `v=DKIM1; k=rsa; p=${der}`;
    dns.set('mail._domainkey.shapes.test', 'TXT', [key]);

    expect(await resolve('shapes.test', 'TXT')).toEqual([['v=spf1 -all'], ['other record']]);
    expect(await resolve('shapes.test', 'MX')).toEqual([{ exchange: 'mx.shapes.test', priority: 10 }]);
    expect(await resolve('shapes.test', 'A')).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(await resolve('shapes.test', 'AAAA')).toEqual(['2001:db8::1']);
    const dkim = (await resolve('mail._domainkey.shapes.test', 'TXT')) as string[][];
    expect(dkim).toHaveLength(1);
    expect(dkim[0]!.length).toBeGreaterThan(1);
    expect(dkim[0]!.join('')).toBe(key);
  });

  it('rejects with the node:dns codes mailauth reads: ENOTFOUND, ENODATA', async ({ expect }) => {
    const resolve = resolver();
    dns.set('empty.test', 'A', []);
    const missing = await resolve('nowhere.missing.test', 'A').catch((err: unknown) => err);
    expect(missing).toBeInstanceOf(Error);
    expect(missing).toMatchObject({ code: 'ENOTFOUND', message: 'queryA ENOTFOUND nowhere.missing.test' });
    await expect(resolve('empty.test', 'A')).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('asks again once a record’s TTL (at least 5 s) is over, not before', async ({ expect }) => {
    const resolve = resolver();
    dns.set('ttl-1.test', 'TXT', ['short'], { ttl: 1 });
    dns.set('ttl-300.test', 'TXT', ['long'], { ttl: 300 });
    for (let round = 0; round < 2; round++) {
      expect(await resolve('ttl-1.test', 'TXT')).toEqual([['short']]);
      expect(await resolve('ttl-300.test', 'TXT')).toEqual([['long']]);
    }
    expect([dns.queries('ttl-1.test'), dns.queries('ttl-300.test')]).toEqual([1, 1]);
    await sleep(5_200);
    await resolve('ttl-1.test', 'TXT');
    await resolve('ttl-300.test', 'TXT');
    expect([dns.queries('ttl-1.test'), dns.queries('ttl-300.test')]).toEqual([2, 1]);
  });

  it('keeps "no such name" as long as the zone’s SOA says, 60 s without one', async ({ expect }) => {
    const resolve = resolver();
    dns.soa('soa-minimum.test', { minimum: 1 });
    dns.soa('soa-ttl.test', { minimum: 3600, ttl: 1 });
    dns.set('empty.soa-minimum.test', 'A', []);
    const names = ['gone.soa-minimum.test', 'gone.soa-ttl.test', 'empty.soa-minimum.test', 'gone.no-soa.test'];
    const lookUpAll = () => Promise.all(names.map((name) => resolve(name, 'A').catch((err: { code?: string }) => err.code)));
    expect(await lookUpAll()).toEqual(['ENOTFOUND', 'ENOTFOUND', 'ENODATA', 'ENOTFOUND']);
    await lookUpAll();
    expect(names.map((name) => dns.queries(name))).toEqual([1, 1, 1, 1]);
    await sleep(1_200);
    expect(await lookUpAll()).toEqual(['ENOTFOUND', 'ENOTFOUND', 'ENODATA', 'ENOTFOUND']);
    expect(names.map((name) => dns.queries(name))).toEqual([2, 2, 2, 1]);
  });

  it('gives ETIMEOUT for a server that does not answer, and does not ask it again for a while', async ({ expect }) => {
    const resolve = resolver();
    dns.silence('dead.test');
    const started = performance.now();
    await expect(resolve('dead.test', 'TXT')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(1_400);
    expect(waited).toBeLessThan(2_000);
    const again = performance.now();
    await expect(resolve('dead.test', 'TXT')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    expect(performance.now() - again).toBeLessThan(100);
    expect(dns.queries('dead.test')).toBe(1);
  });

  it('asks the next server when the first does not answer', async ({ expect }) => {
    const dead = await startTestDns();
    try {
      dead.silence('test');
      const resolve = createDnsResolver([dead.address, dns.address], { timeoutMs: 300 });
      dns.set('second.test', 'A', ['192.0.2.7']);
      expect(await resolve('second.test', 'A')).toEqual(['192.0.2.7']);
      expect([dead.queries('second.test'), dns.queries('second.test')]).toEqual([1, 1]);
    } finally {
      await dead.close();
    }
  });

  it('offers EDNS0 room: a reply past 512 bytes comes in one datagram', async ({ expect }) => {
    const resolve = resolver();
    const long = `v=DKIM1; k=rsa; p=${'B'.repeat(1500)}`;
    dns.set('big._domainkey.edns.test', 'TXT', [long]);
    expect(((await resolve('big._domainkey.edns.test', 'TXT')) as string[][])[0]!.join('')).toBe(long);
    // Without EDNS0 the server would cut the reply to 512 bytes and the answer would come over TCP.
    expect(dns.queries('big._domainkey.edns.test', { transport: 'udp' })).toBe(1);
    expect(dns.queries('big._domainkey.edns.test', { transport: 'tcp' })).toBe(0);
  });

  it('asks again over TCP when the UDP reply is truncated, and gets a long TXT record whole', async ({ expect }) => {
    const resolve = resolver();
    const long = `v=DKIM1; k=rsa; p=${'A'.repeat(1500)}`;
    dns.set('big._domainkey.tc.test', 'TXT', [long]);
    dns.truncate('big._domainkey.tc.test');
    const answer = (await resolve('big._domainkey.tc.test', 'TXT')) as string[][];
    expect(answer).toHaveLength(1);
    expect(answer[0]!.join('')).toBe(long);
    expect(dns.queries('big._domainkey.tc.test', { transport: 'udp' })).toBe(1);
    expect(dns.queries('big._domainkey.tc.test', { transport: 'tcp' })).toBe(1);
  });

  it('sends one query for concurrent identical lookups', async ({ expect }) => {
    const resolve = resolver();
    dns.set('together.test', 'A', ['192.0.2.9']);
    const answers = await Promise.all([resolve('together.test', 'A'), resolve('Together.test', 'A')]);
    expect(answers).toEqual([['192.0.2.9'], ['192.0.2.9']]);
    expect(dns.queries('together.test')).toBe(1);
  });

  it('ignores a reply under another query id, or to another question', async ({ expect }) => {
    const resolve = resolver();
    for (const mismatch of ['id', 'question'] as const) {
      const name = `forged-${mismatch}.test`;
      dns.set(name, 'A', ['192.0.2.10']);
      dns.forge(name, ['203.0.113.66'], mismatch);
      expect(await resolve(name, 'A')).toEqual(['192.0.2.10']);
      expect(dns.queries(name)).toBe(1);
    }
  });
});
