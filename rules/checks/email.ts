import { compileRegex } from '../compile-regex.js';
import type { FoundField } from '../verdict.js';
import type { CheckInput } from './check-input.js';

/**
 * An address as people type it in running text. RE2 with bounded repeats: a JavaScript regex of
 * this shape is quadratic on a long run of letters without "@", which a hostile mail can send.
 * The leading class keeps us from starting in the middle of a longer local part; nothing after
 * the address is consumed, so two addresses separated by one space are both found.
 */
const ADDRESS =
  '(?i)(?:^|[^a-z0-9._%+-])(?P<value>[a-z0-9_%+-](?:[a-z0-9._%+-]{0,62}[a-z0-9_%+-])?@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\\.[a-z]{2,24})';

/**
 * An address in the text other than the sender's and mailroom's own (with or without a `+tag`):
 * "the contacts who did not receive it" must be someone else. The value is the first such address.
 */
export function checkEmail(input: CheckInput): FoundField | null {
  const compiled = compileRegex(ADDRESS);
  if (!compiled.test(input.text)) return null;
  for (const match of compiled.regex.matchAll(input.text)) {
    const address = match.groups?.value as string | undefined;
    if (address && !input.isExcludedAddress(address.toLowerCase())) return { value: address };
  }
  return null;
}
