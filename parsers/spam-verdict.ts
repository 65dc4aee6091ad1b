/**
 * The spam verdict a filter in front of mailroom wrote into the header, or null when none says
 * spam. Only meaningful for mail from a trusted relay: anyone else can write these headers.
 *
 * - SpamAssassin: `X-Spam-Flag: YES`, `X-Spam-Status: Yes, score=…`
 * - Rspamd (milter_headers): `X-Spam: Yes`, `X-Spam-Status: Yes, …`, and its action in
 *   `X-Rspamd-Action` or `X-Spamd-Result: default: True […]`
 */
export function upstreamSpamVerdict(headers: Map<string, string[]>): string | null {
  const first = (name: string) => (headers.get(name)?.[0] ?? '').trim();
  if (/^yes\b/i.test(first('x-spam-flag'))) return 'x-spam-flag';
  if (/^yes\b/i.test(first('x-spam-status'))) return 'x-spam-status';
  if (/^yes\b/i.test(first('x-spam'))) return 'x-spam';
  if (SPAM_ACTIONS.has(first('x-rspamd-action').toLowerCase())) return 'x-rspamd-action';
  if (/^default:\s*true\b/i.test(first('x-spamd-result'))) return 'x-spamd-result';
  return null;
}

/** Rspamd's actions that mean "this is spam"; `greylist`, `soft reject` (greylisting, rate limits) and `no action` do not. */
const SPAM_ACTIONS = new Set(['reject', 'add header', 'rewrite subject', 'quarantine', 'discard']);
