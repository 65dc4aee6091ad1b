import { describe, expect, it } from 'vitest';
import { canonicalAddress, canonicalDomain } from '../../parsers/addresses.js';

describe('the canonical form of an address', () => {
  it.each([
    ['Target@Victim.org', 'target@victim.org'],
    ['target+x@victim.org', 'target@victim.org'],
    ['"target"@victim.org', 'target@victim.org'],
    ['"tar\\"get"@victim.org', 'tar"get@victim.org'],
    ['  target@victim.org. ', 'target@victim.org'],
    ['t.a.r.g.e.t@gmail.com', 'target@gmail.com'],
    ['Tar.Get+news@GoogleMail.com', 'target@gmail.com'],
    ['first.last@example.com', 'first.last@example.com'],
    ['+tag@victim.org', '+tag@victim.org'],
    ['not-an-address', 'not-an-address'],
  ])('%s is %s', (address, canonical) => {
    expect(canonicalAddress(address)).toBe(canonical);
  });

  it('gives the domain of the canonical form', () => {
    expect(canonicalDomain('x@GoogleMail.com')).toBe('gmail.com');
  });
});
