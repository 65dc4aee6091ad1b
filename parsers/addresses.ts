/** Address helpers shared by SMTP recipient checks and threading. */

/** Lower-cases the domain and the local part: support addresses are matched case-insensitively. */
export function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}

export interface SplitAddress {
  local: string;
  /** Text after the first `+` of the local part, or null when there is none. */
  detail: string | null;
  domain: string;
}

/** Splits `local+detail@domain`; returns null for anything that is not a plain mailbox. */
export function splitAddress(address: string): SplitAddress | null {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return null;
  const localPart = address.slice(0, at);
  const domain = address.slice(at + 1).toLowerCase();
  const plus = localPart.indexOf('+');
  return plus === -1
    ? { local: localPart.toLowerCase(), detail: null, domain }
    : { local: localPart.slice(0, plus).toLowerCase(), detail: localPart.slice(plus + 1), domain };
}

/**
 * True for MTA mailboxes (RFC 3834 §2, RFC 5321 §4.5.1). Deliberately not no-reply@ or
 * bounces@: web forms send customers' requests from such addresses with a Reply-To.
 */
export function isSystemSender(address: string): boolean {
  const split = splitAddress(address);
  if (!split) return false;
  return /^(mailer-daemon|mailerdaemon|mail-daemon|postmaster)$/.test(split.local);
}

/** Providers that ignore dots in the local part and answer to two domain names. */
const DOTLESS_DOMAINS: ReadonlyMap<string, string> = new Map([
  ['gmail.com', 'gmail.com'],
  ['googlemail.com', 'gmail.com'],
]);

/**
 * The one form of an address that limits, suppression and participant checks compare: domain
 * and local part lower case, a quoted local part unquoted, the sub-address (`+tag`) removed, and
 * Gmail's dots and its second domain folded. Mail is still sent to the address as written; this
 * only decides which addresses are the same mailbox, so `Target+x@`, `"target"@` and `t.arget@`
 * share one counter and one suppression.
 */
export function canonicalAddress(address: string): string {
  const trimmed = address.trim();
  const at = trimmed.lastIndexOf('@');
  if (at <= 0 || at === trimmed.length - 1) return trimmed.toLowerCase();
  let local = trimmed.slice(0, at);
  let domain = trimmed.slice(at + 1).toLowerCase().replace(/\.$/, '');
  // RFC 5321 quoted-string: "a\"b" is the local part a"b.
  if (local.length >= 2 && local.startsWith('"') && local.endsWith('"')) local = local.slice(1, -1).replace(/\\(.)/g, '$1');
  local = local.toLowerCase();
  const plus = local.indexOf('+');
  if (plus > 0) local = local.slice(0, plus);
  const folded = DOTLESS_DOMAINS.get(domain);
  if (folded) {
    local = local.replace(/\./g, '');
    domain = folded;
  }
  return `${local}@${domain}`;
}

/** The domain of an address's canonical form. */
export function canonicalDomain(address: string): string {
  const canonical = canonicalAddress(address);
  return canonical.slice(canonical.lastIndexOf('@') + 1);
}

/**
 * Why `address` is not one mail can be sent to, or null when it is: a dot-atom local part (no
 * quotes, spaces or angle brackets), a domain of letters, digits and hyphens with a dot, RFC 5321
 * lengths (64 for the local part, 254 in all). Typed by an agent correcting an address, so it is
 * strict: what it refuses, no relay would take either.
 */
export function addressProblem(address: string): string | null {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return 'not an address (local@domain)';
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (address.length > 254) return 'longer than 254 characters';
  if (local.length > 64) return 'local part longer than 64 characters';
  if (!/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/.test(local)) return `"${local}" is not a valid local part`;
  if (!/^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/.test(domain)) return `"${domain}" is not a domain name`;
  return null;
}
