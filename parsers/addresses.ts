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
