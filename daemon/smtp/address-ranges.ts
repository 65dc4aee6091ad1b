import { BlockList, isIP } from 'node:net';

/** `10.0.0.0/8`, `192.0.2.7` or `2001:db8::/32` as address, prefix and family; null when it is none of these. */
export function parseCidr(range: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [address = '', prefixText, extra] = range.split('/');
  if (extra !== undefined) return null;
  const version = isIP(address);
  if (version === 0) return null;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  return Number.isInteger(prefix) && prefix >= 0 && prefix <= max ? { address, prefix, family } : null;
}

/** `::ffff:192.0.2.7` (an IPv4 client on a dual-stack socket) as `192.0.2.7`; any other address as it is. */
export function unmappedIp(address: string): string {
  return address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}

/** Whether a client address is in one of the ranges (an IPv4-mapped IPv6 address counts as IPv4). */
export function createAddressRanges(ranges: string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const range of ranges) {
    const cidr = parseCidr(range);
    if (cidr) list.addSubnet(cidr.address, cidr.prefix, cidr.family);
  }
  return (address) => {
    const plain = unmappedIp(address);
    const version = isIP(plain);
    return version !== 0 && list.check(plain, version === 4 ? 'ipv4' : 'ipv6');
  };
}
