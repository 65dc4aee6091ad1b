import { normalizeAddress, splitAddress } from '../parsers/addresses.js';
import type { Mailbox, RuleSet } from './schema.js';

/** The local part of the address bounces come back to: `bounces+<delivery token>@<domain>`. */
export const BOUNCE_LOCAL_PART = 'bounces';

export type RecipientMatch =
  | { kind: 'mailbox'; mailbox: Mailbox; /** the `+detail`, e.g. a reply token or a tag */ detail: string | null }
  | { kind: 'bounce'; token: string };

/** Decides whether mailroom accepts mail for an address, and for what. Null: not ours. */
export function resolveRecipient(ruleSet: RuleSet, address: string): RecipientMatch | null {
  const split = splitAddress(address);
  if (!split) return null;
  for (const mailbox of ruleSet.mailboxes) {
    const own = splitAddress(mailbox.address)!;
    if (own.domain !== split.domain) continue;
    if (own.local === split.local) return { kind: 'mailbox', mailbox, detail: split.detail || null };
  }
  if (split.local === BOUNCE_LOCAL_PART && split.detail && mailboxDomains(ruleSet).has(split.domain)) {
    return { kind: 'bounce', token: split.detail.toLowerCase() };
  }
  return null;
}

export function mailboxDomains(ruleSet: RuleSet): Set<string> {
  return new Set(ruleSet.mailboxes.map((mailbox) => splitAddress(mailbox.address)!.domain));
}

/** Addresses that are mailroom itself: never participants, never answered. */
export function isOwnAddress(ruleSet: RuleSet, address: string): boolean {
  return resolveRecipient(ruleSet, normalizeAddress(address)) !== null;
}

export function findMailbox(ruleSet: RuleSet, address: string): Mailbox | null {
  const match = resolveRecipient(ruleSet, address);
  return match?.kind === 'mailbox' ? match.mailbox : null;
}

/** Whether an address belongs to an agent of this mailbox (its own list or the global one). */
export function isAgent(ruleSet: RuleSet, mailbox: Mailbox, address: string): boolean {
  const normalized = normalizeAddress(address);
  const domain = splitAddress(normalized)?.domain;
  if (!domain) return false;
  return [...ruleSet.agents, ...mailbox.agents].some((entry) => (entry.startsWith('@') ? entry.slice(1) === domain : entry === normalized));
}
